import Foundation
import RetentionEngine
import RetentionRules

/// A hold as `hold list --format json` prints it.
struct HoldView: Encodable {
    var id: Int64
    var scope: String
    var store: String
    var dataset: String?
    /// The key in its type: a JSON number for an integer key, a string for text.
    var key: RecordKey?
    var keyType: String?
    var reason: String
    var createdBy: String
    var createdAt: String
    var releasedAt: String?
    var releasedBy: String?

    init(_ hold: Hold) {
        switch hold.scope {
        case .store: (dataset, key) = (nil, nil)
        case .dataset(_, let d): (dataset, key) = (d, nil)
        case .record(_, let d, let k): (dataset, key) = (d, k)
        }
        keyType = key.map { if case .integer = $0 { "integer" } else { "text" } }
        (id, scope, store, reason) = (hold.id, hold.scope.description, hold.scope.store, hold.reason)
        (createdBy, createdAt) = (hold.createdBy, InstantText.format(hold.createdAt))
        (releasedAt, releasedBy) = (hold.releasedAt.map(InstantText.format), hold.releasedBy)
    }
}
