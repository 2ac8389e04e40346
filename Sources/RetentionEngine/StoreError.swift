/// A store could not be reached or did not behave as its stores file says.
package struct StoreError: Error, Sendable, CustomStringConvertible {
    package var store: String
    package var message: String

    package init(store: String, message: String) {
        self.store = store
        self.message = message
    }

    package var description: String { "store '\(store)': \(message)" }
}
