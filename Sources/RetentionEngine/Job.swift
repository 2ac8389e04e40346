package import Foundation
package import RetentionRules

/// One planned action on one dataset under one stage of one rule, with its lifecycle.
///
/// A job is written to the state database before any record is touched, and carries the exact
/// predicate it was planned with, so that a restart after `kill -9` finishes the same job.
package struct Job: Sendable, Hashable, Identifiable {
    /// Where a job is in its life.
    package enum State: String, Sendable, Hashable, CaseIterable {
        /// Written, waiting to run (possibly for its grace window to pass).
        case planned
        /// Held back by the mass-deletion guard or a rule's `review: required`.
        case awaitingApproval = "awaiting-approval"
        /// Batches are being applied.
        case running
        case done
        case failed
        case cancelled
    }

    /// Sequential, from the state database.
    package var id: Int64
    package var store: String
    package var dataset: String
    package var rule: String
    /// Zero-based index of the stage in the rule.
    package var stage: Int
    package var action: Action
    /// Whether the job deletes records of a `retain: none` rule, each one a violation.
    package var isViolation: Bool
    /// A record is due for this job when its anchor is earlier than this instant.
    package var cutoff: Date
    /// The records the job touches (holds are added at each batch).
    package var predicate: RecordPredicate
    package var state: State
    /// Why the job waits for approval, or why it failed or was cancelled.
    package var reason: String?
    /// The clock of the pass that planned it.
    package var plannedAt: Date
    /// Not run before this instant (the grace window).
    package var notBefore: Date
    /// Records due when planned, and records in the dataset then.
    package var plannedCount: Int
    package var datasetTotal: Int?
    /// Records acted on so far, exact across restarts.
    package var doneCount: Int
    /// The last key of the last finished batch.
    package var lastKey: RecordKey?
    /// The running digest over affected keys (see `KeyDigest`).
    package var keysDigest: KeyDigest
    package var startedAt: Date?
    package var finishedAt: Date?
    /// Who approved or cancelled, and when.
    package var decidedBy: String?
    /// What the job is for beyond its rule, kept in its audit record: a deferred erasure's
    /// restriction says `erasure under rule R deferred by rule O until T`.
    package var note: String? = nil
    /// Set when the job's row could not be read as written (an unknown action or state, a time,
    /// predicate, key or digest that does not parse, a value of the wrong type), saying what: the
    /// engine fails such a job rather than guess what it was meant to do (see `Job(reading:)`).
    package var unreadable: String? = nil
    /// The row of an unreadable job as the state database holds it: saving the job's end leaves
    /// the rest of it as written, and its audit record quotes it (the action as written, say).
    var asWritten: JobRow? = nil
}
