import Foundation
import GRDB


/// A row of the `batch` table: the keys of the batch a job is applying, as JSON (`KeyRuns`).
package struct BatchRow: Sendable, Codable, FetchableRecord, PersistableRecord {
    package static let databaseTableName = "batch"
    package var job: Int64
    package var keys: String
}

/// The batch in flight: its keys are written before the store is touched and forgotten with the
/// batch's result, so that what is left after a crash tells the restart what to check.
extension StateDatabase {
    /// Records the keys of the batch about to be applied, before the store is touched.
    package func beginBatch(of job: Int64, keys: [RecordKey]) throws(StateError) {
        try write { db in
            try BatchRow(job: job, keys: try Self.batchText(keys)).insert(db, onConflict: .replace)
        }
    }

    /// The keys of a batch that was begun and not finished: a crash happened while it was applied.
    package func pendingBatch(of job: Int64) throws(StateError) -> [RecordKey]? {
        try read { db in try BatchRow.fetchOne(db, key: job).map { row in try Self.batchKeys(row.keys) } }
    }

    /// Saves the job's progress and forgets the batch's keys, in one transaction.
    ///
    /// Committed without an fsync of its own (`unsynced`): the write-ahead log becomes durable in
    /// order, so the next FULL commit — the next batch's `beginBatch`, before that batch touches
    /// the store, or the job's end — makes this one durable too. A kill -9 loses nothing committed
    /// (the log is in the page cache); a power loss before that next commit loses only this
    /// progress, with the batch's keys still recorded, and the next start settles the batch as it
    /// settles one a crash interrupted. One fsync of the state database per batch, not two.
    package func finishBatch(of job: Job) throws(StateError) {
        try finishBatch(of: job, remaining: [])
    }

    /// One recorded batch may span this many store transactions (`JobRunner`): its keys are
    /// fsynced once, and each transaction's progress is saved with the keys still left.
    package var batchGroup: Int { 4 }

    /// Saves the job's progress and keeps the batch's `remaining` keys (none: forgets the batch),
    /// unsynced as `finishBatch(of:)`. Whatever prefix of these commits a power loss keeps, the
    /// job's count and the batch row still agree: the keys a kept commit no longer lists are
    /// counted in it, and those of later transactions are still listed, so the restart settles
    /// them from the store's truth.
    package func finishBatch(of job: Job, remaining: [RecordKey]) throws(StateError) {
        let text: String?
        do { text = remaining.isEmpty ? nil : try Self.batchText(remaining) } catch {
            throw StateError(path: path, message: "cannot write the batch's keys: \(error)")
        }
        try unsynced { db in
            try Self.update(job, in: db)
            if let text {
                try BatchRow(job: job.id, keys: text).update(db)
            } else {
                try BatchRow.deleteOne(db, key: job.id)
            }
        }
    }
}

extension StateDatabase {
    /// A batch's keys as the `batch.keys` column holds them: as runs, so that a batch of
    /// consecutive ids is two numbers, not a list of thousands.
    package static func batchText(_ keys: [RecordKey]) throws -> String {
        try json(KeyRuns(keys))
    }

    /// The keys a `batch.keys` column holds.
    package static func batchKeys(_ text: String) throws -> [RecordKey] {
        let data = Data(text.utf8)
        // A plain list: written by a version before KeyRuns.
        if let keys = try? JSONDecoder().decode([RecordKey].self, from: data) { return keys }
        return try JSONDecoder().decode(KeyRuns.self, from: data).keys
    }
}
