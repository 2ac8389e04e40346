import Foundation

/// What the pass service sleeps on between passes. The daemon sleeps on `SystemPassTimer`; tests
/// give one that returns when they say, to see that a pass comes when it is due and not before.
protocol PassTimer: Sendable {
    /// Returns once `deadline` (wall-clock time) has come; throws `CancellationError` if cancelled first.
    func sleep(until deadline: Date) async throws
}

/// Sleeps on the boot-time clock for the time left until the deadline, and at least a second, so
/// that a record falling due while the next wake was computed does not make the daemon spin.
struct SystemPassTimer: PassTimer {
    func sleep(until deadline: Date) async throws {
        try await Task.sleep(for: .seconds(max(1, deadline.timeIntervalSinceNow)))
    }
}
