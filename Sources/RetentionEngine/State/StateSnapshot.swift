import Foundation
import GRDB

/// Every row of a state database as it is written, read at one instant: what `retentionctl
/// state migrate` copies into another backend, verbatim (ids, instants' text, JSON columns,
/// hashes and MACs, the chain's id), so that the copy's audit chain verifies under the same key
/// and journal anchors.
package struct StateSnapshot: Sendable {
    package var chainID: String
    package var jobs: [JobRow]
    package var batches: [BatchRow]
    package var holds: [HoldRow]
    package var passes: [PassRow]
    package var lockedRules: [LockedRuleRow]
    package var audit: [AuditRecord]

    /// How many rows of each table, in words (`3 jobs, 1 hold, …`), the empty ones left out.
    package var summary: String {
        let counts = [(jobs.count, "job", "jobs"), (batches.count, "batch in flight", "batches in flight"), (holds.count, "hold", "holds"),
                      (passes.count, "pass", "passes"), (lockedRules.count, "locked rule", "locked rules"),
                      (audit.count, "audit record", "audit records")]
        let words = counts.filter { $0.0 > 0 }.map { "\($0.0) \($0.0 == 1 ? $0.1 : $0.2)" }
        return words.isEmpty ? "nothing" : words.joined(separator: ", ")
    }
}

extension StateDatabase {
    /// Every row, in one read transaction. A job row of the wrong column types cannot be copied
    /// as written: refused, naming it, rather than copied as a guess.
    package func snapshot() throws(StateError) -> StateSnapshot {
        try read { db in
            let jobs = try Row.fetchAll(db, sql: "SELECT * FROM job ORDER BY id").map { row in
                let (decoded, problem) = JobRow.decoding(row)
                if let problem {
                    throw StateError(path: path, message: "job \(decoded.id ?? 0) cannot be copied as written: \(problem)")
                }
                return decoded
            }
            return StateSnapshot(chainID: chainID, jobs: jobs, batches: try BatchRow.order(Column("job")).fetchAll(db),
                                 holds: try HoldRow.order(Column("id")).fetchAll(db), passes: try PassRow.order(Column("id")).fetchAll(db),
                                 lockedRules: try LockedRuleRow.order(Column("rule")).fetchAll(db),
                                 audit: try AuditRow.order(AuditRow.Columns.sequence).fetchAll(db).map(\.record))
        }
    }
}
