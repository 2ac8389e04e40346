/// A key typed by an operator, read as the store reads its keys.
public struct KeyLookup: Sendable, Hashable {
    /// What has the key in the store now.
    public enum Found: Sendable, Hashable {
        case record
        /// A directory of a files store: a hold on it holds every file below it.
        case directory
        case nothing
    }

    public var key: RecordKey
    public var type: KeyType
    public var found: Found

    public init(key: RecordKey, type: KeyType, found: Found) {
        self.key = key
        self.type = type
        self.found = found
    }
}
