import Foundation
import RetentionRules

extension Job {
    /// The job a row holds. What this version cannot read — an action or state it does not know,
    /// a time, predicate, key or digest it cannot parse — is never guessed (an unknown action
    /// once became `delete`): the job comes back with `unreadable` saying what, with an action
    /// that deletes nothing and a predicate no record matches in place of what it could not read,
    /// and with its row kept as written (`asWritten`). A pass then fails it without touching a
    /// record (`JobRunner`), and its audit record quotes the row.
    /// - Parameter problem: why the row could not even be decoded, for a row taken as text.
    package init(reading row: JobRow, problem: String? = nil) {
        var reader = ColumnReader()
        if let problem { reader.problems.append(problem) }
        let action = reader.known(row.action, "an action", Action.init(rawValue:))
        let state = reader.known(row.state, "a job state", Job.State.init(rawValue:))
        let cutoff = reader.time(row.cutoff, "cutoff"), plannedAt = reader.time(row.plannedAt, "planned_at")
        let notBefore = reader.time(row.notBefore, "not_before")
        let startedAt = row.startedAt.map { reader.time($0, "started_at") }, finishedAt = row.finishedAt.map { reader.time($0, "finished_at") }
        let predicate = reader.json(RecordPredicate.self, row.predicate, "predicate")
        let lastKey = row.lastKey.map { reader.json(RecordKey.self, $0, "last_key") }
        let digest = reader.known(row.keysDigest, "a key digest", KeyDigest.init(stateText:))
        let unreadable = reader.problems.isEmpty ? nil : reader.problems.joined(separator: "; ")
        self.init(id: row.id ?? 0, store: row.store, dataset: row.dataset, rule: row.rule, stage: row.stage,
                  action: action ?? .restrict, isViolation: row.violation,
                  cutoff: cutoff ?? .distantPast, predicate: unreadable == nil ? predicate ?? .never : .never,
                  state: state ?? .failed, reason: row.reason, plannedAt: plannedAt ?? .distantPast,
                  notBefore: notBefore ?? .distantPast, plannedCount: row.plannedCount, datasetTotal: row.datasetTotal,
                  doneCount: row.doneCount, lastKey: lastKey ?? nil, keysDigest: digest ?? KeyDigest(),
                  startedAt: startedAt ?? nil, finishedAt: finishedAt ?? nil, decidedBy: row.decidedBy, note: row.note)
        self.unreadable = unreadable
        asWritten = unreadable == nil ? nil : row
    }
}

/// Reads a job row's columns, noting each one this version cannot read, in the words an
/// operator reads in the job's reason.
private struct ColumnReader {
    var problems: [String] = []

    mutating func known<T>(_ text: String, _ what: String, _ parse: (String) -> T?) -> T? {
        if let value = parse(text) { return value }
        problems.append("the state database holds \(what) this retentiond does not know: '\(text)'")
        return nil
    }

    mutating func time(_ text: String, _ column: String) -> Date? {
        if let date = InstantText.parse(text) { return date }
        problems.append("the state database holds a \(column) that is not a time: '\(text)'")
        return nil
    }

    mutating func json<T: Decodable>(_ type: T.Type, _ text: String, _ column: String) -> T? {
        do { return try JSONDecoder().decode(type, from: Data(text.utf8)) } catch {
            problems.append("the state database holds a \(column) this retentiond cannot read: '\(text)'")
            return nil
        }
    }
}
