import Foundation
import PostgresNIO
package import RetentionEngine

/// Jobs and the batch in flight, with the semantics of `StateDatabase+Jobs` and `+Batches`.
extension PostgresStateStore {
    package func insert(_ job: Job) async throws(StateError) -> Job {
        let row: JobRow
        do { row = try JobRow(job) } catch { throw session.failure("cannot write job: \(error)") }
        let id = try await transaction { [self] connection in
            var query = Self.insertion(of: row, withID: false)
            query.sql += " RETURNING id"
            do {
                return try await connection.query(query, logger: logger).decode(Int64.self).first { _ in true } ?? 0
            } catch let error as PSQLError where error.serverInfo?[.constraintName] == "job_open_once" {
                // Two planners at once (a leader whose lease lapsed mid-pass and the next one): the
                // state database keeps one open job per stage, and says so rather than fail.
                throw StateError(path: location, message: "another daemon planned it meanwhile: a job is open for \(job.store)/\(job.dataset) "
                                 + "under rule \(job.rule), stage \(job.stage + 1)", kind: .alreadyPlanned(existing: nil))
            }
        }
        var inserted = job
        inserted.id = id
        return inserted
    }

    package func update(_ job: Job) async throws(StateError) {
        try await transaction { [self] connection in
            try await fence(job.id, on: connection)
            try await Self.save(job, on: connection, logger: logger)
        }
    }

    package func job(_ id: Int64) async throws(StateError) -> Job? {
        try await transaction { [logger] connection in
            try await connection.query(PostgresQuery(unsafeSQL: "SELECT \(Self.jobColumns) FROM job WHERE id = $1", binds: Self.binds(id)),
                                       logger: logger).collect().first.map(Self.job)
        }
    }

    package func jobs(in states: [Job.State]) async throws(StateError) -> [Job] {
        try await transaction { [logger] connection in
            let filter = states.isEmpty ? "" : " WHERE state = ANY($1)"
            var binds = PostgresBindings()
            if !states.isEmpty { binds.append(states.map(\.rawValue)) }
            return try await connection.query(PostgresQuery(unsafeSQL: "SELECT \(Self.jobColumns) FROM job\(filter) ORDER BY id", binds: binds),
                                              logger: logger).collect().map(Self.job)
        }
    }

    @discardableResult
    package func finish(_ job: Job) async throws(StateError) -> AuditRecord {
        let record = try await transaction { [self] connection in
            try await fence(job.id, on: connection)
            try await Self.save(job, on: connection, logger: logger)
            try await connection.query("DELETE FROM batch WHERE job = \(job.id)", logger: logger)
            return try await appendAudit(for: job, on: connection)
        }
        ended(job.id)
        anchor?(AuditAnchor(record, chain: chainID, state: location))
        return record
    }

    package func beginBatch(of job: Int64, keys: [RecordKey]) async throws(StateError) {
        let text: String
        do { text = try StateDatabase.batchText(keys) } catch { throw session.failure("cannot write the batch's keys: \(error)") }
        try await transaction { [self] connection in
            try await fence(job, on: connection)
            try await connection.query("""
                INSERT INTO batch (job, keys) VALUES (\(job), \(text)) ON CONFLICT (job) DO UPDATE SET keys = EXCLUDED.keys
                """, logger: logger)
        }
    }

    package func pendingBatch(of job: Int64) async throws(StateError) -> [RecordKey]? {
        try await transaction { [logger] connection in
            guard let text = try await connection.query("SELECT keys FROM batch WHERE job = \(job)", logger: logger)
                .decode(String.self).first(where: { _ in true }) else { return nil }
            return try StateDatabase.batchKeys(text)
        }
    }

    package func finishBatch(of job: Job) async throws(StateError) {
        try await transaction { [self] connection in
            try await fence(job.id, on: connection)
            try await Self.save(job, on: connection, logger: logger)
            try await connection.query("DELETE FROM batch WHERE job = \(job.id)", logger: logger)
        }
    }

    // MARK: Rows

    static let jobColumns = JobRow.CodingKeys.allCases.map(\.rawValue).joined(separator: ", ")

    /// The job a row holds, unreadable when the row cannot be read as written (`Job(reading:)`).
    static func job(_ row: PostgresRow) -> Job {
        do { return Job(reading: try row.record(JobRow.self)) } catch {
            let id = (try? row.makeRandomAccess()["id"].decode(Int64.self)) ?? 0
            return Job(reading: JobRow.unreadable(id: id), problem: "the state database holds a job row this retentiond cannot read: \(error)")
        }
    }

    /// Saves a job's mutable columns (`JobRow.saving`: an unreadable job's row keeps what it holds).
    static func save(_ job: Job, on connection: PostgresConnection, logger: Logger) async throws {
        let (row, columns) = try JobRow.saving(job)
        var binds = PostgresBindings()
        var assignments: [String] = []
        for column in columns {
            bind(column, of: row, into: &binds)
            assignments.append("\(column.rawValue) = $\(binds.count)")
        }
        binds.append(job.id)
        try await connection.query(PostgresQuery(unsafeSQL: "UPDATE job SET \(assignments.joined(separator: ", ")) WHERE id = $\(binds.count)",
                                                 binds: binds), logger: logger)
    }

    /// The INSERT of a job row: with its id (a copy, `state migrate`) or without (a new job).
    static func insertion(of row: JobRow, withID: Bool) -> PostgresQuery {
        let columns = JobRow.CodingKeys.allCases.filter { withID || $0 != .id }
        var binds = PostgresBindings()
        for column in columns { bind(column, of: row, into: &binds) }
        let placeholders = (1...columns.count).map { "$\($0)" }.joined(separator: ", ")
        return PostgresQuery(unsafeSQL: "INSERT INTO job (\(columns.map(\.rawValue).joined(separator: ", "))) VALUES (\(placeholders))",
                             binds: binds)
    }

    private static func bind(_ column: JobRow.CodingKeys, of row: JobRow, into binds: inout PostgresBindings) {
        switch column {
        case .id: binds.add(row.id)
        case .store: binds.append(row.store)
        case .dataset: binds.append(row.dataset)
        case .rule: binds.append(row.rule)
        case .stage: binds.add(row.stage)
        case .action: binds.append(row.action)
        case .violation: binds.append(row.violation)
        case .cutoff: binds.append(row.cutoff)
        case .predicate: binds.append(row.predicate)
        case .state: binds.append(row.state)
        case .reason: binds.add(row.reason)
        case .plannedAt: binds.append(row.plannedAt)
        case .notBefore: binds.append(row.notBefore)
        case .plannedCount: binds.add(row.plannedCount)
        case .datasetTotal: binds.add(row.datasetTotal)
        case .doneCount: binds.add(row.doneCount)
        case .lastKey: binds.add(row.lastKey)
        case .keysDigest: binds.append(row.keysDigest)
        case .startedAt: binds.add(row.startedAt)
        case .finishedAt: binds.add(row.finishedAt)
        case .decidedBy: binds.add(row.decidedBy)
        case .note: binds.add(row.note)
        }
    }

    static func binds(_ values: Int64...) -> PostgresBindings {
        var binds = PostgresBindings()
        for value in values { binds.append(value) }
        return binds
    }
}
