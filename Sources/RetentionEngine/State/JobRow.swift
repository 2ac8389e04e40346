import Foundation
package import GRDB
import RetentionRules

/// A row of the `job` table, column for column as migrations v1 and v2-kinds made it: instants as
/// ISO 8601 text (`InstantText.format`), the predicate and the last key as JSON, the key digest as its
/// state text. `Job(_:)` reads one; `JobRow(_:)` writes one.
package struct JobRow: Sendable, Hashable, Codable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "job"

    package var id: Int64?
    package var store: String
    package var dataset: String
    package var rule: String
    package var stage: Int
    package var action: String
    package var violation: Bool
    package var cutoff: String
    package var predicate: String
    package var state: String
    package var reason: String?
    package var plannedAt: String
    package var notBefore: String
    package var plannedCount: Int
    package var datasetTotal: Int?
    package var doneCount: Int
    package var lastKey: String?
    package var keysDigest: String
    package var startedAt: String?
    package var finishedAt: String?
    package var decidedBy: String?
    package var note: String?

    package enum CodingKeys: String, CodingKey, CaseIterable {
        case id, store, dataset, rule, stage, action, violation, cutoff, predicate, state, reason
        case plannedAt = "planned_at", notBefore = "not_before", plannedCount = "planned_count", datasetTotal = "dataset_total"
        case doneCount = "done_count", lastKey = "last_key", keysDigest = "keys_digest", startedAt = "started_at"
        case finishedAt = "finished_at", decidedBy = "decided_by", note
    }

    package enum Columns {
        static let id = Column(CodingKeys.id)
        static let state = Column(CodingKeys.state)
    }

    /// What a job's life and progress change, saved by `StateStore.update`.
    package static let changingColumns: [CodingKeys] = [.state, .reason, .notBefore, .doneCount, .lastKey, .keysDigest, .startedAt,
                                                .finishedAt, .decidedBy, .predicate, .plannedCount]
    /// What ending a job that could not be read changes: it never started, and nothing else of
    /// its row is this version's to rewrite.
    package static let endingColumns: [CodingKeys] = [.state, .reason, .finishedAt, .decidedBy]

    package mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

extension JobRow {
    /// The row that stores `job` (its id nil for a job not yet inserted).
    package init(_ job: Job) throws {
        self.init(id: job.id == 0 ? nil : job.id, store: job.store, dataset: job.dataset, rule: job.rule, stage: job.stage,
                  action: job.action.rawValue, violation: job.isViolation, cutoff: InstantText.format(job.cutoff),
                  predicate: try StateDatabase.json(job.predicate), state: job.state.rawValue, reason: job.reason,
                  plannedAt: InstantText.format(job.plannedAt), notBefore: InstantText.format(job.notBefore), plannedCount: job.plannedCount,
                  datasetTotal: job.datasetTotal, doneCount: job.doneCount, lastKey: try job.lastKey.map(StateDatabase.json),
                  keysDigest: job.keysDigest.stateText, startedAt: job.startedAt.map(InstantText.format),
                  finishedAt: job.finishedAt.map(InstantText.format), decidedBy: job.decidedBy, note: job.note)
    }

    /// The row of a job as it should be saved now, and the columns to save. A job that could not
    /// be read keeps its row as written but for its end (failed or cancelled, why, when, by whom):
    /// the columns this version cannot read stay for an operator to see, never overwritten with
    /// what this version put in their place.
    package static func saving(_ job: Job) throws -> (row: JobRow, columns: [CodingKeys]) {
        guard var row = job.asWritten else { return (try JobRow(job), changingColumns) }
        row.id = job.id
        row.state = job.state.rawValue
        row.reason = job.reason
        row.finishedAt = job.finishedAt.map(InstantText.format)
        row.decidedBy = job.decidedBy
        return (row, endingColumns)
    }

    /// A row of which nothing could be read but its id: its job surfaces as unreadable.
    package static func unreadable(id: Int64) -> JobRow {
        JobRow(id: id, store: "", dataset: "", rule: "", stage: 0, action: "", violation: false, cutoff: "", predicate: "", state: "",
               reason: nil, plannedAt: "", notBefore: "", plannedCount: 0, datasetTotal: nil, doneCount: 0, lastKey: nil, keysDigest: "",
               startedAt: nil, finishedAt: nil, decidedBy: nil, note: nil)
    }

    /// Reads a fetched row. A row GRDB cannot decode (a value of the wrong type in a column) is
    /// taken column by column as text, so that the job still surfaces, as unreadable.
    static func decoding(_ row: Row) -> (row: JobRow, problem: String?) {
        if let decoded = try? JobRow(row: row) { return (decoded, nil) }
        func text(_ column: CodingKeys) -> String? {
            let value: DatabaseValue = row[column.rawValue]
            return value.isNull ? nil : String.fromDatabaseValue(value) ?? value.description
        }
        func integer(_ column: CodingKeys) -> Int? { Int.fromDatabaseValue(row[column.rawValue]) }
        let lenient = JobRow(id: Int64.fromDatabaseValue(row[CodingKeys.id.rawValue]), store: text(.store) ?? "", dataset: text(.dataset) ?? "",
                             rule: text(.rule) ?? "", stage: integer(.stage) ?? 0, action: text(.action) ?? "", violation: false,
                             cutoff: text(.cutoff) ?? "", predicate: text(.predicate) ?? "", state: text(.state) ?? "",
                             reason: text(.reason), plannedAt: text(.plannedAt) ?? "", notBefore: text(.notBefore) ?? "",
                             plannedCount: integer(.plannedCount) ?? 0, datasetTotal: integer(.datasetTotal), doneCount: integer(.doneCount) ?? 0,
                             lastKey: text(.lastKey), keysDigest: text(.keysDigest) ?? "", startedAt: text(.startedAt),
                             finishedAt: text(.finishedAt), decidedBy: text(.decidedBy), note: text(.note))
        return (lenient, "the state database holds a job row this retentiond cannot read: \(mismatch(in: row))")
    }

    private static let integerColumns: Set<CodingKeys> = [.id, .stage, .violation, .plannedCount, .datasetTotal, .doneCount]
    private static let optionalColumns: Set<CodingKeys> = [.reason, .datasetTotal, .lastKey, .startedAt, .finishedAt, .decidedBy, .note]

    /// The first column of `row` whose value is not of the column's type, in words.
    private static func mismatch(in row: Row) -> String {
        for column in CodingKeys.allCases {
            let value: DatabaseValue = row[column.rawValue]
            let integer = integerColumns.contains(column)
            if value.isNull ? optionalColumns.contains(column) : integer ? Int64.fromDatabaseValue(value) != nil : String.fromDatabaseValue(value) != nil {
                continue
            }
            return value.isNull ? "\(column.rawValue) is NULL" : "\(column.rawValue) holds \(value), not \(integer ? "an integer" : "text")"
        }
        return "its columns are not those of a job"
    }
}
