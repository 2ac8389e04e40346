public import Foundation

/// A legal hold: nothing under it is deleted, anonymized or restricted, whatever the rules say.
public struct Hold: Sendable, Hashable, Codable, Identifiable {
    /// What a hold covers.
    public enum Scope: Sendable, Hashable, Codable, CustomStringConvertible {
        case store(String)
        case dataset(store: String, dataset: String)
        case record(store: String, dataset: String, key: RecordKey)

        public var store: String {
            switch self {
            case .store(let store), .dataset(let store, _), .record(let store, _, _): store
            }
        }

        public var description: String {
            switch self {
            case .store(let store): "store \(store)"
            case .dataset(let store, let dataset): "dataset \(store)/\(dataset)"
            // Typed: text `"007"` and the integer 7 are different records.
            case .record(let store, let dataset, let key): "record \(store)/\(dataset) key \(key.typedDescription)"
            }
        }

        /// Whether the hold covers a whole dataset (or its store).
        public func covers(store: String, dataset: String) -> Bool {
            switch self {
            case .store(let s): s == store
            case .dataset(let s, let d): s == store && d == dataset
            case .record: false
            }
        }
    }

    public var id: Int64
    public var scope: Scope
    /// Why: a case number, a litigation reference.
    public var reason: String
    /// Who set it.
    public var createdBy: String
    public var createdAt: Date
    public var releasedAt: Date?
    public var releasedBy: String?
}
