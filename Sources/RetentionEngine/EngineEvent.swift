/// The kinds of things the engine reports, each with a stable id for the journal's `MESSAGE_ID=`
/// and its catalog, so that an auditor can filter by kind.
package enum EngineEvent: String, Sendable, CaseIterable {
    case jobPlanned = "job-planned"
    case jobDone = "job-done"
    case jobFailed = "job-failed"
    case jobCancelled = "job-cancelled"
    case approvalNeeded = "approval-needed"
    case deadlineMissed = "deadline-missed"
    case erasureDeferred = "erasure-deferred"
    case badValue = "bad-value"
    case batchSettled = "batch-settled"
    /// A delete job took a partition whole (detached, and dropped unless the dataset archives), or left it to its batches.
    case partitionTaken = "partition-taken"
    case holdBlocked = "hold-blocked"
    case clockRefused = "clock-refused"
    case retainNoneViolation = "retain-none-violation"
    case rulesReloaded = "rules-reloaded"
    case rulesRejected = "rules-rejected"
    case stateCreated = "state-created"
    case recordSkipped = "record-skipped"
    /// An audit record was appended: its anchor (sequence, chain hash, MAC, chain id) for the journal.
    case auditAppended = "audit-appended"
    /// On a shared state: this daemon took the planner's lease, in a new term.
    case leaderElected = "leader-elected"
    /// On a shared state: this daemon took over a job whose claim ran out in another daemon.
    case jobTakenOver = "job-taken-over"
    /// On a shared state: this daemon lost a job's claim and stopped acting on it.
    case jobFenced = "job-fenced"
    /// On a shared state: the live leader plans under other rules; this daemon refuses to act.
    case rulesDiffer = "rules-differ"
}
