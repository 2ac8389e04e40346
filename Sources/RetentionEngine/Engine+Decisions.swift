public import Foundation

/// Why an operator's decision on a job was refused.
public struct DecisionError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension StateDatabase {
    /// Lets a job the guard or a review held back run at the next pass.
    public func approve(_ id: Int64, by who: String, at now: Date) throws -> Job {
        guard var job = try job(id) else { throw DecisionError(message: "no job \(id) (see retentionctl jobs)") }
        guard job.state == .awaitingApproval else {
            throw DecisionError(message: "job \(id) is \(job.state.rawValue), not awaiting approval; nothing to approve")
        }
        job.state = .planned
        job.decidedBy = "approved by \(who) at \(TimeText.iso(now))"
        try update(job)
        return job
    }

    /// Stops a job that has not started: planned (in its grace window) or awaiting approval.
    public func cancel(_ id: Int64, by who: String, at now: Date) throws -> Job {
        guard var job = try job(id) else { throw DecisionError(message: "no job \(id) (see retentionctl jobs)") }
        guard job.state == .planned || job.state == .awaitingApproval else {
            throw DecisionError(message: job.state == .running
                ? "job \(id) is running: it can be cancelled only before it starts (place a hold to stop it between batches)"
                : "job \(id) is already \(job.state.rawValue)")
        }
        job.state = .cancelled
        job.decidedBy = "cancelled by \(who) at \(TimeText.iso(now))"
        job.finishedAt = now
        try finish(job)
        return job
    }
}
