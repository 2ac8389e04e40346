import Foundation
import Logging
import RetentionEngine
import ServiceLifecycle

/// Runs passes on the engine in force: one at once, then each time it wakes, sleeping in between
/// until the earliest of the next record falling due, the next scheduled evaluation
/// (`--interval`), a reload or a stop. Never polls. With `--once` it returns after the first pass.
///
/// Graceful shutdown (SIGTERM) stops the pass in progress after its current batch; no pass
/// follows.
struct PassService: Service {
    let settings: DaemonSettings
    let engine: EngineInForce
    let status: DaemonStatus
    let flags: DaemonFlags
    let liveness: Liveness
    let clockGuard: ClockGuard
    let notifier: any LifecycleNotifier
    let logger: Logger
    /// Told after every reload, good or rejected.
    let rulesChanged: AsyncStream<Void>
    let timer: any PassTimer

    func run() async {
        let alarm = PassAlarm(timer: timer)
        var wakes = PassWake.merged(rulesChanged: rulesChanged, alarm: alarm).makeAsyncIterator()
        await withDiscardingTaskGroup { group in
            group.addTask { await alarm.run() }
            await withGracefulShutdownHandler {
                while !flags.stopRequested {
                    await pass()
                    if settings.once || flags.stopRequested { break }
                    let deadline = await nextDeadline()
                    await alarm.set(deadline)
                    let wake = await Self.wake(for: deadline, from: &wakes)
                    if wake == nil || wake == .stopping { break }
                }
            } onGracefulShutdown: { [flags, notifier] in
                flags.requestStop()
                notifier.stopping(status: "stopping after the current batch")
                alarm.stop()
            }
            group.cancelAll()
        }
    }

    /// The next wake that is not stale (the alarm of a deadline since replaced).
    static func wake(for deadline: Date, from wakes: inout some AsyncIteratorProtocol<PassWake, Never>) async -> PassWake? {
        while let wake = await wakes.next(isolation: #isolation) {
            if case .due(let set) = wake, set != deadline { continue }
            return wake
        }
        return nil
    }

    /// When to wake: when the stores say the next record falls due, but no later than the
    /// interval. Reported in `STATUS=`; from here until the next pass, the daemon is idle.
    func nextDeadline() async -> Date {
        let latest = Date().addingTimeInterval(Self.longestSleep(settings, shared: engine.current.state is any SharedState))
        let deadline = await nextWake().map { min($0, latest) } ?? latest
        status.sleeping(until: deadline)
        notifier.status(status.line(for: engine.current))
        liveness.setIdle(true)
        return deadline
    }

    /// The longest sleep between passes, in seconds: the interval; on a shared state at most half
    /// a lease, because nothing but a pass takes a job over whose daemon died, froze or lost the
    /// network, keeps the planner's lease, or finds the state database back after an outage.
    static func longestSleep(_ settings: DaemonSettings, shared: Bool) -> TimeInterval {
        let interval = Double(settings.interval.components.seconds)
        guard shared else { return interval }
        return min(interval, Double(settings.lease.components.seconds) / 2)
    }

    /// When to wake next, by the stores; nil (sleep the full interval) if they cannot say.
    func nextWake() async -> Date? {
        do { return try await engine.current.nextWake(after: Date()) } catch {
            logger.warning("cannot compute when the next record falls due: \(error); next pass in \(settings.interval)")
            return nil
        }
    }
}
