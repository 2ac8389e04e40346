import Synchronization
import Systemd

/// Whether the daemon is alive in the watchdog's sense: asleep waiting for work, or working and
/// making progress (a batch, a plan, or a command store's program still running within its own
/// timeout: `Engine.heartbeat`) within the watchdog's timeout. A pass stuck on a store for longer
/// than that stops the pings, and systemd restarts the service, which resumes the job.
final class Liveness: Sendable {
    private let lastBeat = Atomic<UInt64>(ServiceNotifier.monotonicMicroseconds())
    private let idle = Atomic<Bool>(false)

    /// Progress was made.
    func beat() {
        lastBeat.store(ServiceNotifier.monotonicMicroseconds(), ordering: .relaxed)
    }

    /// Whether the daemon is waiting for work (true) or working (false).
    func setIdle(_ value: Bool) {
        beat()
        idle.store(value, ordering: .relaxed)
    }

    func isAlive(within timeout: Duration) -> Bool {
        if idle.load(ordering: .relaxed) { return true }
        let elapsed = ServiceNotifier.monotonicMicroseconds() &- lastBeat.load(ordering: .relaxed)
        return Duration.microseconds(Int64(clamping: elapsed)) < timeout
    }
}
