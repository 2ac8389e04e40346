package import Foundation

/// A legal hold: nothing under it is deleted, anonymized or restricted, whatever the rules say.
package struct Hold: Sendable, Hashable, Identifiable {
    /// What a hold covers.
    package enum Scope: Sendable, Hashable, CustomStringConvertible {
        case store(String)
        case dataset(store: String, dataset: String)
        case record(store: String, dataset: String, key: RecordKey)

        package var store: String {
            switch self {
            case .store(let store), .dataset(let store, _), .record(let store, _, _): store
            }
        }

        package var description: String {
            switch self {
            case .store(let store): "store \(store)"
            case .dataset(let store, let dataset): "dataset \(store)/\(dataset)"
            // Typed: text `"007"` and the integer 7 are different records.
            case .record(let store, let dataset, let key): "record \(store)/\(dataset) key \(key.typedDescription)"
            }
        }

        /// Whether the hold covers a whole dataset (or its store).
        func covers(store: String, dataset: String) -> Bool {
            switch self {
            case .store(let s): s == store
            case .dataset(let s, let d): s == store && d == dataset
            case .record: false
            }
        }
    }

    package var id: Int64
    package var scope: Scope
    /// Why: a case number, a litigation reference.
    package var reason: String
    /// Who set it.
    package var createdBy: String
    package var createdAt: Date
    package var releasedAt: Date?
    package var releasedBy: String?

    package init(id: Int64, scope: Scope, reason: String, createdBy: String, createdAt: Date, releasedAt: Date? = nil, releasedBy: String? = nil) {
        (self.id, self.scope, self.reason, self.createdBy, self.createdAt) = (id, scope, reason, createdBy, createdAt)
        (self.releasedAt, self.releasedBy) = (releasedAt, releasedBy)
    }
}
