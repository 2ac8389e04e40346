import ArgumentParser

/// An operator's decision on jobs (`approve`, `cancel`), taken job by job.
enum JobDecisions {
    /// Applies `decision` to each job, printing what it did or why it was refused; fails the
    /// command (1) once every job was tried if any was refused.
    static func apply(to jobs: [Int64], _ decision: (Int64) async throws -> String) async throws {
        var refused = false
        for id in jobs {
            do { print(try await decision(id)) } catch {
                Output.error("retentionctl: \(error)")
                refused = true
            }
        }
        if refused { throw ExitCode.failure }
    }
}
