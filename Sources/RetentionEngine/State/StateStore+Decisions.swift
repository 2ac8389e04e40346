package import Foundation

/// An operator's decisions on a job (`retentionctl approve`, `cancel`), checked against the job
/// lifecycle (`Job+Lifecycle.swift`) and saved, whichever backend keeps the state.
extension StateStore {
    /// Lets a job the guard or a review held back run at the next pass.
    package func approve(_ id: Int64, by who: String, at now: Date) async throws -> Job {
        var job = try await existing(id)
        try job.approve(by: who, at: now)
        try await update(job)
        return job
    }

    /// Stops a job that has not started: planned (in its grace window) or awaiting approval.
    package func cancel(_ id: Int64, by who: String, at now: Date) async throws -> Job {
        var job = try await existing(id)
        try job.cancel(by: who, at: now)
        try await finish(job)
        return job
    }

    private func existing(_ id: Int64) async throws -> Job {
        guard let job = try await job(id) else { throw DecisionError(message: "no job \(id) (see retentionctl jobs)") }
        return job
    }
}
