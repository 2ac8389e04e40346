import Logging
import RetentionEngine
import RetentionRules
import ServiceLifecycle

/// Reloads the rules and stores on each trigger (SIGHUP in the daemon), at once, even during a
/// pass, which finishes on the rules it began with. A broken configuration, or one that would
/// shorten a locked rule, is rejected with every error located, and the last good one stays in
/// force. Either way the pass service is told, so that it plans again under the rules in force.
struct ReloadService<Trigger: AsyncSequence & Sendable>: Service where Trigger.Element: Sendable, Trigger.Failure == Never {
    let triggers: Trigger
    let engine: EngineInForce
    let builder: EngineBuilder
    let status: DaemonStatus
    let notifier: any LifecycleNotifier
    let logger: Logger
    let rulesChanged: AsyncStream<Void>.Continuation

    func run() async {
        for await _ in triggers.cancelOnGracefulShutdown() {
            notifier.reloading(status: "reloading the rules and stores")
            await reload()
            notifier.ready(status: status.line(for: engine.current))
            rulesChanged.yield()
        }
    }

    /// Puts the new rules and stores in force if they are good; logs why if not.
    func reload() async {
        // Its errors are logged, located, by the builder.
        guard let configuration = try? builder.loadConfiguration(reloading: true) else { return }
        do {
            let engine = try builder.makeEngine(configuration, state: self.engine.current.state)
            // A reload must not shorten or drop a locked rule: the state database remembers them.
            try await engine.checkLocks()
            self.engine.replace(with: engine)
            logger.notice("rules reloaded: \(DaemonStatus.describe(engine))",
                          metadata: ["event": "\(EngineEvent.rulesReloaded.rawValue)", "count": "\(engine.rules.rules.count)"])
        } catch {
            logger.error("rules rejected, the rules loaded before stay in force: \(error)", metadata: ["event": "\(EngineEvent.rulesRejected.rawValue)"])
        }
    }
}
