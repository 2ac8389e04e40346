import Synchronization

/// What the daemon's tasks tell each other without waiting: set by one (the graceful-shutdown
/// handler, a pass) and read by another (the engine before each batch, `--once` at exit).
final class DaemonFlags: Sendable {
    /// A stop was asked for: the pass in progress ends after its current batch, and no pass follows.
    let stop = Atomic<Bool>(false)
    /// A pass failed, was refused, or one of its jobs failed: `--once` exits 1.
    let failed = Atomic<Bool>(false)

    var stopRequested: Bool { stop.load(ordering: .relaxed) }
    var anyFailed: Bool { failed.load(ordering: .relaxed) }

    func requestStop() { stop.store(true, ordering: .relaxed) }
    func markFailed() { failed.store(true, ordering: .relaxed) }
}
