/// A store call that may outlast the job's claim — a command store's program, which carries out a
/// whole job in one request, for as long as its `timeout:` allows — keeps the claim renewed while
/// it runs, so that no other daemon takes the job over and sends it again meanwhile.
///
/// Renewed every third of the lease. A renewal that finds the claim lost (`.fenced`) stops the
/// call at once: the program's process group gets SIGTERM, then SIGKILL (`CommandProgram`), and
/// the daemon leaves the job to its new owner, which sends it again (a command store's program is
/// idempotent by contract). A renewal that fails otherwise (the state server unreachable) is tried
/// again at the next third; once the claim would run out before another try, the call is stopped
/// the same way and the error stops the pass: a program left running would overlap the next
/// owner's.
extension JobRunner {
    func whileClaimed<Result: Sendable>(_ job: Int64, _ call: @escaping @Sendable () async throws -> Result) async throws -> Result {
        guard let shared = engine.sharedState else { return try await call() }
        let lease = shared.claimLease, interval = shared.claimLease / 3
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await call() }
            group.addTask {
                var renewed = ContinuousClock.now
                while true {
                    do { try await Task.sleep(for: interval) } catch { return nil }
                    do throws(StateError) {
                        try await shared.confirm(job)
                        renewed = .now
                    } catch {
                        if case .fenced = error.kind { throw error }
                        if renewed.duration(to: .now) + interval >= lease { throw error }
                    }
                }
            }
            // The first to end decides: the call's result, or the renewal's error (which cancels the call).
            while let ended = try await group.next() {
                guard let result = ended else { continue }
                group.cancelAll()
                return result
            }
            throw CancellationError()
        }
    }
}
