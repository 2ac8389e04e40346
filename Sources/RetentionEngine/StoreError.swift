/// A store could not be reached or did not behave as its stores file says.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var store: String
    public var message: String

    public init(store: String, message: String) {
        self.store = store
        self.message = message
    }

    public var description: String { "store '\(store)': \(message)" }
}
