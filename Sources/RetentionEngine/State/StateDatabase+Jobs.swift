import Foundation
import GRDB

/// Jobs: written before any record is touched, saved as they progress, ended with their audit
/// record in the same transaction.
extension StateDatabase {
    /// Writes a new job and returns it with its id.
    package func insert(_ job: Job) throws(StateError) -> Job {
        try write { db in
            var row = try JobRow(job)
            row.id = nil
            try row.insert(db)
            var job = job
            job.id = row.id ?? 0
            return job
        }
    }

    /// Saves a job's mutable fields.
    package func update(_ job: Job) throws(StateError) {
        try write { db in try Self.update(job, in: db) }
    }

    static func update(_ job: Job, in db: Database) throws {
        let (row, columns) = try JobRow.saving(job)
        try row.update(db, columns: columns.map(\.stringValue))
    }

    /// One job by id.
    package func job(_ id: Int64) throws(StateError) -> Job? {
        try read { db in
            try JobRow.filter(key: id).asRequest(of: Row.self).fetchOne(db).map(Self.job)
        }
    }

    /// Jobs in the given states (all when empty), oldest first.
    package func jobs(in states: [Job.State] = []) throws(StateError) -> [Job] {
        try read { db in
            var request = JobRow.order(JobRow.Columns.id)
            if !states.isEmpty { request = request.filter(states.map(\.rawValue).contains(JobRow.Columns.state)) }
            return try request.asRequest(of: Row.self).fetchAll(db).map(Self.job)
        }
    }

    /// The job a fetched row holds, unreadable when the row cannot be read as written.
    private static func job(_ row: Row) -> Job {
        let (jobRow, problem) = JobRow.decoding(row)
        return Job(reading: jobRow, problem: problem)
    }

    /// Ends a job (done, failed or cancelled) and appends its audit record, in one transaction;
    /// then hands the record's anchor to `anchor` (after the commit: an anchor must never name a
    /// record that was rolled back).
    @discardableResult
    package func finish(_ job: Job) throws(StateError) -> AuditRecord {
        let record = try write { db in
            try Self.update(job, in: db)
            try BatchRow.deleteOne(db, key: job.id)
            return try appendAudit(for: job, in: db)
        }
        anchor?(AuditAnchor(record, chain: chainID, state: path))
        return record
    }
}
