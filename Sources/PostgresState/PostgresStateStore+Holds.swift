package import Foundation
import PostgresNIO
package import RetentionEngine
import RetentionRules

/// Holds and locked rules, with the semantics of `StateDatabase+Holds` and `+LockedRules`.
extension PostgresStateStore {
    static let holdColumns = "id, store, dataset, key, reason, created_by, created_at, released_at, released_by"
    static let lockedRuleColumns = "rule, anchor, stages, retention, kind, recorded_at, form"

    package func addHold(_ scope: Hold.Scope, reason: String, by who: String, at now: Date) async throws(StateError) -> Hold {
        let row: HoldRow
        do { row = try HoldRow(placing: scope, reason: reason, by: who, at: now) } catch { throw session.failure("cannot write the hold: \(error)") }
        let id = try await transaction { [logger] connection in
            try await connection.query("""
                INSERT INTO hold (store, dataset, key, reason, created_by, created_at)
                VALUES (\(row.store), \(row.dataset), \(row.key), \(row.reason), \(row.createdBy), \(row.createdAt)) RETURNING id
                """, logger: logger).decode(Int64.self).first { _ in true } ?? 0
        }
        return Hold(id: id, scope: scope, reason: reason, createdBy: who, createdAt: now)
    }

    package func releaseHold(_ id: Int64, by who: String, at now: Date) async throws(StateError) -> Bool {
        try await transaction { [logger] connection in
            let released = try await connection.query("""
                UPDATE hold SET released_at = \(InstantText.format(now)), released_by = \(who) WHERE id = \(id) AND released_at IS NULL RETURNING id
                """, logger: logger).collect()
            return released.count == 1
        }
    }

    package func holds() async throws(StateError) -> [Hold] {
        try await holds(includingReleased: false)
    }

    package func holds(includingReleased: Bool) async throws(StateError) -> [Hold] {
        try await transaction { [logger] connection in
            let filter = includingReleased ? "" : " WHERE released_at IS NULL"
            return try await connection.query(PostgresQuery(unsafeSQL: "SELECT \(Self.holdColumns) FROM hold\(filter) ORDER BY id"), logger: logger)
                .collect().map { try $0.record(HoldRow.self).hold }
        }
    }

    package func lockedRules() async throws(StateError) -> [LockedRule] {
        try await transaction { [logger] connection in
            try await connection.query(PostgresQuery(unsafeSQL: "SELECT \(Self.lockedRuleColumns) FROM locked_rule ORDER BY rule"), logger: logger)
                .collect().map { try $0.record(LockedRuleRow.self).lockedRule }
        }
    }

    package func remember(_ locked: [LockedRule]) async throws(StateError) {
        let rows: [LockedRuleRow]
        do { rows = try locked.map(LockedRuleRow.init) } catch { throw session.failure("cannot write the locked rules: \(error)") }
        try await transaction { [logger] connection in
            for row in rows { try await connection.query(Self.insertion(of: row, replacing: true), logger: logger) }
        }
    }

    static func insertion(of row: LockedRuleRow, replacing: Bool) -> PostgresQuery {
        var binds = PostgresBindings()
        for text in [row.rule, row.anchor, row.stages, row.retention, row.kind, row.recordedAt] { binds.append(text) }
        binds.add(row.form)
        let upsert = replacing ? " ON CONFLICT (rule) DO UPDATE SET anchor = EXCLUDED.anchor, stages = EXCLUDED.stages, "
            + "retention = EXCLUDED.retention, kind = EXCLUDED.kind, recorded_at = EXCLUDED.recorded_at, form = EXCLUDED.form" : ""
        return PostgresQuery(unsafeSQL: "INSERT INTO locked_rule (\(lockedRuleColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7)\(upsert)", binds: binds)
    }
}
