package import Foundation
import RetentionRules

/// A job's life (DESIGN §6): planned → (awaiting-approval) → running → done | failed | cancelled.
///
/// Every change of a job's state goes through one of these methods, which refuse a move the
/// lifecycle does not have: a job done cannot run again, a running job cannot be approved.
extension Job {
    /// The moves the lifecycle allows, from each state. A running job goes back to waiting for
    /// approval when it would go beyond what it was approved for; any open job fails when it
    /// cannot be carried out, and is cancelled when its rule no longer applies.
    static let moves: [State: Set<State>] = [
        .planned: [.awaitingApproval, .running, .failed, .cancelled],
        .awaitingApproval: [.planned, .failed, .cancelled],
        .running: [.awaitingApproval, .done, .failed, .cancelled],
        .done: [], .failed: [], .cancelled: [],
    ]

    /// Whether the job has ended (done, failed or cancelled): nothing moves it any more.
    var hasEnded: Bool { Self.moves[state, default: []].isEmpty }

    private mutating func move(to next: State) throws(JobTransitionError) {
        guard Self.moves[state, default: []].contains(next) else { throw JobTransitionError(job: id, from: state, to: next) }
        state = next
    }

    /// The first batch is about to be applied.
    mutating func start(at now: Date) throws(JobTransitionError) {
        try move(to: .running)
        startedAt = now
        reason = nil
    }

    /// Held back for `retentionctl approve`: by the guard or a review when planned, or when running
    /// because it would go beyond the count it was approved for.
    mutating func awaitApproval(_ why: String) throws(JobTransitionError) {
        try move(to: .awaitingApproval)
        reason = why
    }

    /// Every batch applied.
    mutating func complete(at now: Date) throws(JobTransitionError) {
        try move(to: .done)
        finishedAt = now
    }

    /// The job cannot be carried out; it is kept, with why, for the audit.
    mutating func fail(_ why: String, at now: Date) throws(JobTransitionError) {
        try move(to: .failed)
        reason = why
        finishedAt = now
    }

    /// The engine's cancellation: the job's rule no longer applies to its dataset.
    mutating func cancel(_ why: String, at now: Date) throws(JobTransitionError) {
        try move(to: .cancelled)
        reason = why
        finishedAt = now
    }

    /// A person lets a job that waits for approval run at the next pass.
    package mutating func approve(by who: String, at now: Date) throws(DecisionError) {
        guard state == .awaitingApproval else {
            throw DecisionError(message: "job \(id) is \(state.rawValue), not awaiting approval; nothing to approve")
        }
        if let unreadable {
            throw DecisionError(message: "job \(id) cannot be approved: \(unreadable); cancel it, and plan the stage anew")
        }
        do { try move(to: .planned) } catch { throw DecisionError(message: error.description) }
        decidedBy = "approved by \(who) at \(InstantText.format(now))"
    }

    /// A person stops a job that has not started: planned (in its grace window) or awaiting approval.
    package mutating func cancel(by who: String, at now: Date) throws(DecisionError) {
        guard state == .planned || state == .awaitingApproval else {
            throw DecisionError(message: state == .running
                ? "job \(id) is running: it can be cancelled only before it starts (place a hold to stop it between batches)"
                : "job \(id) is already \(state.rawValue)")
        }
        do { try move(to: .cancelled) } catch { throw DecisionError(message: error.description) }
        decidedBy = "cancelled by \(who) at \(InstantText.format(now))"
        finishedAt = now
    }
}

/// A move the job lifecycle does not have: the job changed under the engine (another process
/// decided on it), or a bug; the pass stops rather than guess.
package struct JobTransitionError: Error, Sendable, CustomStringConvertible {
    package var job: Int64
    var from: Job.State
    var to: Job.State

    package var description: String {
        let allowed = Job.moves[from, default: []].map(\.rawValue).sorted()
        return "job \(job) cannot go from \(from.rawValue) to \(to.rawValue): from \(from.rawValue) a job can only go to "
            + (allowed.isEmpty ? "nothing (it has ended)" : allowed.joined(separator: " or "))
    }
}

/// Why an operator's decision on a job was refused.
package struct DecisionError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}
