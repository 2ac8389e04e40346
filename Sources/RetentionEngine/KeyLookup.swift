/// A key typed by an operator, read as the store reads its keys.
package struct KeyLookup: Sendable, Hashable {
    /// What has the key in the store now.
    package enum Found: Sendable, Hashable {
        case record
        /// A directory of a files store: a hold on it holds every file below it.
        case directory
        case nothing
    }

    package var key: RecordKey
    package var type: KeyType
    package var found: Found

    package init(key: RecordKey, type: KeyType, found: Found) {
        self.key = key
        self.type = type
        self.found = found
    }
}
