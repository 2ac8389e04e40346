public import Foundation
public import RetentionRules

/// One planned action on one dataset under one stage of one rule, with its lifecycle.
///
/// A job is written to the state database before any record is touched, and carries the exact
/// predicate it was planned with, so that a restart after `kill -9` finishes the same job.
public struct Job: Sendable, Hashable, Codable, Identifiable {
    /// Where a job is in its life.
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
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
    public var id: Int64
    public var store: String
    public var dataset: String
    public var rule: String
    /// Zero-based index of the stage in the rule.
    public var stage: Int
    public var action: Action
    /// Whether the job deletes records of a `retain: none` rule, each one a violation.
    public var isViolation: Bool
    /// A record is due for this job when its anchor is earlier than this instant.
    public var cutoff: Date
    /// The records the job touches (holds are added at each batch).
    public var predicate: RecordPredicate
    public var state: State
    /// Why the job waits for approval, or why it failed or was cancelled.
    public var reason: String?
    /// The clock of the pass that planned it.
    public var plannedAt: Date
    /// Not run before this instant (the grace window).
    public var notBefore: Date
    /// Records due when planned, and records in the dataset then.
    public var plannedCount: Int
    public var datasetTotal: Int?
    /// Records acted on so far, exact across restarts.
    public var doneCount: Int
    /// The last key of the last finished batch.
    public var lastKey: RecordKey?
    /// The running digest over affected keys (see `KeyDigest`).
    public var keysDigest: KeyDigest
    public var startedAt: Date?
    public var finishedAt: Date?
    /// Who approved or cancelled, and when.
    public var decidedBy: String?
    /// What the job is for beyond its rule, kept in its audit record: a deferred erasure's
    /// restriction says `erasure under rule R deferred by rule O until T`.
    public var note: String? = nil
    /// Set when the job's row could not be read as written (an unknown action or state, a time,
    /// predicate, key or digest that does not parse, a value of the wrong type), saying what: the
    /// engine fails such a job rather than guess what it was meant to do (see `Job(reading:)`).
    public var unreadable: String? = nil
    /// The row of an unreadable job as the state database holds it: saving the job's end leaves
    /// the rest of it as written, and its audit record quotes it (the action as written, say).
    var asWritten: JobRow? = nil
}
