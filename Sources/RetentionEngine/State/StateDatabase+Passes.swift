package import Foundation
package import GRDB
import RetentionRules

/// A row of the `pass` table: when a pass started and how it ended; a pass recorded under a clock
/// that ran ahead is set aside (voided) when a person accepts the clock.
package struct PassRow: Sendable, Codable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "pass"
    package var id: Int64?
    package var startedAt: String
    package var finishedAt: String?
    package var result: String?
    package var voidedAt: String?
    package var voidedBy: String?

    package enum CodingKeys: String, CodingKey {
        case id, startedAt = "started_at", finishedAt = "finished_at", result, voidedAt = "voided_at", voidedBy = "voided_by"
    }

    package enum Columns {
        static let startedAt = Column(CodingKeys.startedAt)
        static let finishedAt = Column(CodingKeys.finishedAt)
        static let result = Column(CodingKeys.result)
        static let voidedAt = Column(CodingKeys.voidedAt)
        static let voidedBy = Column(CodingKeys.voidedBy)
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// The latest start among the passes `request` selects.
    static func latestStart(_ request: QueryInterfaceRequest<PassRow>, in db: Database) throws -> Date? {
        try request.select(max(Columns.startedAt), as: String.self).fetchOne(db).flatMap(InstantText.parse)
    }
}

/// Passes and the clock: a pass refuses to act under a clock that went backwards or jumped ahead
/// since the last pass, until a person accepts the clock.
extension StateDatabase {
    /// Whether anything ever happened here: a pass, a job, a hold, a locked rule. A state database
    /// without history is new (or the wrong file): commands say so rather than show an empty past.
    package func hasHistory() throws(StateError) -> Bool {
        try read { db in
            try ["pass", "job", "hold", "locked_rule", "audit"].contains { table in
                try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table))") ?? false
            }
        }
    }

    /// The clock of the latest pass that acted, if any.
    package func lastPassClock() throws(StateError) -> Date? {
        try read { db in try PassRow.latestStart(PassRow.all(), in: db) }
    }

    /// Records the start of a pass at `now`; refuses when the clock is earlier than the last pass's.
    package func beginPass(at now: Date, maximumGap: TimeInterval? = nil) throws(StateError) -> Int64 {
        try write { db in
            if let last = try PassRow.latestStart(PassRow.filter(PassRow.Columns.voidedAt == nil), in: db) {
                try PassClock.refuse(now, after: last, maximumGap: maximumGap, location: path)
            }
            var pass = PassRow(startedAt: InstantText.format(now))
            try pass.insert(db)
            return pass.id ?? 0
        }
    }

    /// A person's word that the clock reads right at `now`: passes recorded later than `now` (under
    /// a clock that ran ahead) no longer count for the clock checks, and `now` is the new last pass.
    /// Returns how many passes were set aside.
    package func acceptClock(at now: Date, by who: String) throws(StateError) -> Int {
        try write { db in
            let stamp = InstantText.format(now)
            let voided = try PassRow.filter(PassRow.Columns.startedAt > stamp && PassRow.Columns.voidedAt == nil)
                .updateAll(db, PassRow.Columns.voidedAt.set(to: stamp), PassRow.Columns.voidedBy.set(to: who))
            var acceptance = PassRow(startedAt: stamp, finishedAt: stamp,
                                     result: PassClock.acceptedBy + who + (voided > 0 ? "; \(voided) later passes set aside" : ""))
            try acceptance.insert(db)
            return voided
        }
    }


    /// When a person last accepted the clock (`acceptClock`), if ever.
    package func lastClockAcceptance() throws(StateError) -> Date? {
        try read { db in try PassRow.latestStart(PassRow.filter(PassRow.Columns.result.like(PassClock.acceptedBy + "%")), in: db) }
    }

    /// Records how a pass ended.
    package func finishPass(_ id: Int64, at now: Date, result: String) throws(StateError) {
        try write { db in
            _ = try PassRow.filter(key: id).updateAll(db, PassRow.Columns.finishedAt.set(to: InstantText.format(now)), PassRow.Columns.result.set(to: result))
        }
    }
}
