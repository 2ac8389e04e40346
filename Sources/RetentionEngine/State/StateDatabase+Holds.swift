package import Foundation
package import GRDB
import RetentionRules

/// A row of the `hold` table: a store-wide hold has no dataset, a dataset's hold no key; the key
/// of a record's hold is JSON (typed: text `"007"` and the integer 7 are different records).
package struct HoldRow: Sendable, Codable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "hold"
    package var id: Int64?
    package var store: String
    package var dataset: String?
    package var key: String?
    package var reason: String
    package var createdBy: String
    package var createdAt: String
    package var releasedAt: String?
    package var releasedBy: String?

    package enum CodingKeys: String, CodingKey {
        case id, store, dataset, key, reason, createdBy = "created_by", createdAt = "created_at"
        case releasedAt = "released_at", releasedBy = "released_by"
    }

    package enum Columns {
        static let id = Column(CodingKeys.id)
        static let releasedAt = Column(CodingKeys.releasedAt)
        static let releasedBy = Column(CodingKeys.releasedBy)
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    package var hold: Hold {
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

extension HoldRow {
    /// The row of a hold about to be placed (its id given by the database).
    package init(placing scope: Hold.Scope, reason: String, by who: String, at now: Date) throws {
        let (dataset, key): (String?, RecordKey?) = switch scope {
        case .store: (nil, nil)
        case .dataset(_, let dataset): (dataset, nil)
        case .record(_, let dataset, let key): (dataset, key)
        }
        self.init(id: nil, store: scope.store, dataset: dataset, key: try key.map(StateDatabase.json), reason: reason,
                  createdBy: who, createdAt: InstantText.format(now))
    }
}

/// Legal holds: placed and released by people, read by every pass before it acts.
extension StateDatabase {
    /// Places a hold.
    package func addHold(_ scope: Hold.Scope, reason: String, by who: String, at now: Date) throws(StateError) -> Hold {
        try write { db in
            var row = try HoldRow(placing: scope, reason: reason, by: who, at: now)
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
