import Foundation
import Logging
import RetentionRules

/// Where a pass's decisions about jobs go: the state database (before any record is touched)
/// and the journal. A dry run's ledger writes nothing and logs nothing, so that a dry run can
/// take the same path as a pass and make the same decisions.
struct JobLedger: Sendable {
    let state: any StateStore
    let logger: Logger
    let dryRun: Bool

    /// Writes a new job; returns it with its id (0 in a dry run).
    func insert(_ job: Job) async throws(StateError) -> Job {
        dryRun ? job : try await state.insert(job)
    }

    /// Saves a job's state and progress.
    func save(_ job: Job) async throws(StateError) {
        if !dryRun { try await state.update(job) }
    }

    /// Saves a job that has ended and appends its audit record.
    func end(_ job: Job) async throws(StateError) {
        if !dryRun { try await state.finish(job) }
    }

    /// The job as the state database has it now: an operator may have decided on it meanwhile.
    func current(_ job: Job) async throws(StateError) -> Job? {
        dryRun ? job : try await state.job(job.id)
    }

    /// Tells the journal about a job, with its structured fields.
    func log(_ level: Logger.Level, _ message: @autoclosure () -> Logger.Message, _ event: EngineEvent, _ job: Job) {
        if !dryRun { logger.log(level: level, message(), metadata: Self.metadata(event, job)) }
    }

    static func metadata(_ event: EngineEvent, _ job: Job) -> Logger.Metadata {
        ["event": "\(event.rawValue)", "rule": "\(job.rule)", "store": "\(job.store)", "dataset": "\(job.dataset)",
         "job_id": "\(job.id)", "action": "\(job.action.rawValue)", "stage": "\(job.stage + 1)",
         "count": "\(job.state == .planned || job.state == .awaitingApproval ? job.plannedCount : job.doneCount)",
         "cutoff": "\(InstantText.format(job.cutoff))"]
    }
}
