package import Foundation
import GRDB
import RetentionRules

/// A row of the `hold` table: a store-wide hold has no dataset, a dataset's hold no key; the key
/// of a record's hold is JSON (typed: text `"007"` and the integer 7 are different records).
struct HoldRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "hold"
    var id: Int64?
    var store: String
    var dataset: String?
    var key: String?
    var reason: String
    var createdBy: String
    var createdAt: String
    var releasedAt: String?
    var releasedBy: String?

    enum CodingKeys: String, CodingKey {
        case id, store, dataset, key, reason, createdBy = "created_by", createdAt = "created_at"
        case releasedAt = "released_at", releasedBy = "released_by"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let releasedAt = Column(CodingKeys.releasedAt)
        static let releasedBy = Column(CodingKeys.releasedBy)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    var hold: Hold {
        get throws {
            let scope: Hold.Scope
            if let dataset, let key {
                scope = .record(store: store, dataset: dataset, key: try JSONDecoder().decode(RecordKey.self, from: Data(key.utf8)))
            } else if let dataset {
                scope = .dataset(store: store, dataset: dataset)
            } else {
                scope = .store(store)
            }
            return Hold(id: id ?? 0, scope: scope, reason: reason, createdBy: createdBy, createdAt: InstantText.parse(createdAt) ?? .distantPast,
                        releasedAt: releasedAt.flatMap(InstantText.parse), releasedBy: releasedBy)
        }
    }
}

/// Legal holds: placed and released by people, read by every pass before it acts.
extension StateDatabase {
    /// Places a hold.
    package func addHold(_ scope: Hold.Scope, reason: String, by who: String, at now: Date) throws(StateError) -> Hold {
        try write { db in
            let (dataset, key): (String?, RecordKey?) = switch scope {
            case .store: (nil, nil)
            case .dataset(_, let dataset): (dataset, nil)
            case .record(_, let dataset, let key): (dataset, key)
            }
            var row = HoldRow(id: nil, store: scope.store, dataset: dataset, key: try key.map(Self.json), reason: reason,
                              createdBy: who, createdAt: InstantText.format(now))
            try row.insert(db)
            return Hold(id: row.id ?? 0, scope: scope, reason: reason, createdBy: who, createdAt: now)
        }
    }

    /// Releases a hold; the row stays, for the record.
    package func releaseHold(_ id: Int64, by who: String, at now: Date) throws(StateError) -> Bool {
        try write { db in
            let released = try HoldRow.filter(key: id).filter(HoldRow.Columns.releasedAt == nil)
                .updateAll(db, HoldRow.Columns.releasedAt.set(to: InstantText.format(now)), HoldRow.Columns.releasedBy.set(to: who))
            return released == 1
        }
    }

    /// The holds in force.
    package func holds() throws(StateError) -> [Hold] {
        try holds(includingReleased: false)
    }

    /// Holds in force, and released ones too when asked.
    package func holds(includingReleased: Bool) throws(StateError) -> [Hold] {
        try read { db in
            var request = HoldRow.order(HoldRow.Columns.id)
            if !includingReleased { request = request.filter(HoldRow.Columns.releasedAt == nil) }
            return try request.fetchAll(db).map { try $0.hold }
        }
    }
}
