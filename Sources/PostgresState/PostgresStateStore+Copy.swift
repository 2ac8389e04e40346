import Foundation
import PostgresNIO
package import RetentionEngine

/// `retentionctl state migrate`: a state database's rows copied in, verbatim, in one transaction.
extension PostgresStateStore {
    /// Copies `snapshot` into this state database, which must hold nothing yet (no job, batch,
    /// hold, pass, locked rule or audit record): rows keep their ids, instants and JSON as
    /// written, audit records their hashes and MACs, and the chain its id, so that the same key
    /// and the same journal anchors verify the copy. The tables are locked meanwhile, so that no
    /// daemon writes to them halfway. Nothing is copied if anything fails.
    package func copy(_ snapshot: StateSnapshot) async throws(StateError) {
        try await transaction(bounded: false) { [self] connection in
            try await connection.query(PostgresQuery(unsafeSQL: "LOCK TABLE \(StateSchema.tables.joined(separator: ", ")) IN EXCLUSIVE MODE"),
                                       logger: logger)
            if let found = try await Self.contents(on: connection, logger: logger) {
                throw StateError(path: location, message: "refusing to copy into a state database that is not empty: it holds \(found). "
                                 + "state migrate fills a new one; give an empty database (or one made with --init and never used)")
            }
            try await Self.replaceChainID(with: snapshot.chainID, on: connection, logger: logger)
            for row in snapshot.jobs { try await connection.query(Self.insertion(of: row, withID: true), logger: logger) }
            for row in snapshot.batches {
                try await connection.query("INSERT INTO batch (job, keys) VALUES (\(row.job), \(row.keys))", logger: logger)
            }
            for row in snapshot.holds { try await connection.query(Self.insertion(of: row), logger: logger) }
            for row in snapshot.passes { try await connection.query(Self.insertion(of: row), logger: logger) }
            for row in snapshot.lockedRules { try await connection.query(Self.insertion(of: row, replacing: false), logger: logger) }
            for record in snapshot.audit { try await connection.query(Self.insertion(of: record), logger: logger) }
            // New rows continue after the copied ids.
            for table in ["job", "hold", "pass"] {
                _ = try await connection.query(PostgresQuery(unsafeSQL: """
                    SELECT setval(pg_get_serial_sequence('\(table)', 'id'), max(id)) FROM \(table) HAVING max(id) IS NOT NULL
                    """), logger: logger).collect()
            }
        }
    }

    /// What the state tables hold, in words; nil when they hold nothing.
    static func contents(on connection: PostgresConnection, logger: Logger) async throws -> String? {
        var found: [String] = []
        for (table, one, many) in [("job", "job", "jobs"), ("batch", "batch in flight", "batches in flight"), ("hold", "hold", "holds"),
                                   ("pass", "pass", "passes"), ("locked_rule", "locked rule", "locked rules"), ("audit", "audit record", "audit records")] {
            let count = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: logger)
                .decode(Int64.self).first { _ in true } ?? 0
            if count > 0 { found.append("\(count) \(count == 1 ? one : many)") }
        }
        return found.isEmpty ? nil : found.joined(separator: ", ")
    }

    /// The chain keeps its id across the copy: the journal's anchors and the MACs name it. The id
    /// is fixed by a trigger; the target's own id was never anchored (its chain is empty), so the
    /// trigger is set aside for this one update, within the transaction.
    private static func replaceChainID(with id: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("ALTER TABLE audit_chain DISABLE TRIGGER audit_chain_no_update", logger: logger)
        try await connection.query("UPDATE audit_chain SET id = \(id)", logger: logger)
        try await connection.query("ALTER TABLE audit_chain ENABLE TRIGGER audit_chain_no_update", logger: logger)
    }

    static func insertion(of row: HoldRow) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.add(row.id)
        binds.append(row.store)
        binds.add(row.dataset)
        binds.add(row.key)
        for text in [row.reason, row.createdBy, row.createdAt] { binds.append(text) }
        binds.add(row.releasedAt)
        binds.add(row.releasedBy)
        return PostgresQuery(unsafeSQL: "INSERT INTO hold (\(holdColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", binds: binds)
    }

    static func insertion(of row: PassRow) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.add(row.id)
        binds.append(row.startedAt)
        for text in [row.finishedAt, row.result, row.voidedAt, row.voidedBy] { binds.add(text) }
        return PostgresQuery(unsafeSQL: "INSERT INTO pass (id, started_at, finished_at, result, voided_at, voided_by) VALUES ($1, $2, $3, $4, $5, $6)",
                             binds: binds)
    }
}
