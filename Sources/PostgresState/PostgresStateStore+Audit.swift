import Foundation
import PostgresNIO
import Synchronization
package import RetentionEngine

/// The audit chain, with the semantics of `StateDatabase+Audit`; one chain whatever the number
/// of writers: an append first locks the chain's row, so appends are serial and each sees the
/// head the one before it wrote.
extension PostgresStateStore {
    static let auditColumns = "sequence, job, rule, store, dataset, stage, action, outcome, cutoff, count, started_at, finished_at, "
        + "keys_sha256, previous_hash, hash, note, mac, term, daemon"

    /// Appends the job's audit record after the chain's head, within the caller's transaction.
    func appendAudit(for job: Job, on connection: PostgresConnection) async throws -> AuditRecord {
        // The lock that serialises appends: held until this transaction ends. Its rows are read,
        // so that a lock timeout is this statement's error, not the next one's.
        _ = try await connection.query("SELECT id FROM audit_chain FOR UPDATE", logger: logger).collect()
        let record = try AuditChain.record(for: job, after: try await Self.last(on: connection, logger: logger), chain: chainID,
                                           key: auditKey, term: claims.withLock { $0[job.id] }, daemon: daemonID, location: location)
        try await connection.query(Self.insertion(of: record), logger: logger)
        return record
    }

    static func insertion(of record: AuditRecord) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(record.sequence)
        binds.append(record.job)
        binds.append(record.rule)
        binds.append(record.store)
        binds.append(record.dataset)
        binds.add(record.stage)
        binds.append(record.action)
        binds.append(record.outcome)
        binds.append(record.cutoff)
        binds.add(record.count)
        for text in [record.startedAt, record.finishedAt, record.keysSHA256, record.previousHash, record.hash] { binds.append(text) }
        binds.add(record.note)
        binds.add(record.mac)
        binds.add(record.term)
        binds.add(record.daemon)
        let placeholders = (1...19).map { "$\($0)" }.joined(separator: ", ")
        return PostgresQuery(unsafeSQL: "INSERT INTO audit (\(auditColumns)) VALUES (\(placeholders))", binds: binds)
    }

    static func last(on connection: PostgresConnection, logger: Logger) async throws -> AuditRecord? {
        try await connection.query(PostgresQuery(unsafeSQL: "SELECT \(auditColumns) FROM audit ORDER BY sequence DESC LIMIT 1"), logger: logger)
            .collect().first.map { try $0.record(AuditRecord.self) }
    }

    package func checkAuditKey() async throws(StateError) {
        guard auditKey == nil else { return }
        let last = try await transaction { [logger] connection in try await Self.last(on: connection, logger: logger) }
        if let last, last.mac != nil { throw AuditChain.unkeyedAppend(keyedFrom: last.sequence, location: location) }
    }

    package func auditRecords() async throws(StateError) -> [AuditRecord] {
        try await transaction { [logger] connection in
            try await connection.query(PostgresQuery(unsafeSQL: "SELECT \(Self.auditColumns) FROM audit ORDER BY sequence"), logger: logger)
                .collect().map { try $0.record(AuditRecord.self) }
        }
    }

    package func auditHead() async throws(StateError) -> AuditAnchor? {
        let last = try await transaction { [logger] connection in try await Self.last(on: connection, logger: logger) }
        return last.map { AuditAnchor(sequence: $0.sequence, hash: $0.hash, mac: $0.mac, chain: chainID, state: location, source: "head") }
    }

    /// One transaction (a snapshot, REPEATABLE READ): the records and the finished jobs are read
    /// at one instant, so a job finishing meanwhile is not taken for a record removed.
    package func verifyAudit(anchors: [AuditAnchor]) async throws(StateError) -> AuditReport {
        let (records, finished) = try await transaction { [logger] connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
            let records = try await connection.query(PostgresQuery(unsafeSQL: "SELECT \(Self.auditColumns) FROM audit ORDER BY sequence"), logger: logger)
                .collect().map { try $0.record(AuditRecord.self) }
            let finished = try await connection.query(PostgresQuery(unsafeSQL: "SELECT \(Self.jobColumns) FROM job WHERE state IN ('done', 'failed', 'cancelled') ORDER BY id"), logger: logger)
                .collect().map(Self.job).filter { $0.finishedAt != nil }.map(\.id)
            return (records, finished)
        }
        return AuditRecord.verify(records, chain: chainID, key: auditKey, anchors: anchors, finishedJobs: finished)
    }
}
