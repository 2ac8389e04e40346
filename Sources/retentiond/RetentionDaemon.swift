import Logging
import RetentionEngine
import ServiceLifecycle
import Systemd
import UnixSignals

/// The daemon, put together: it sets up what must work before it tells systemd it is ready (the
/// audit key, the state database, the rules and stores; see `start()`), then runs its small
/// services in a group of their own, in dependency order: the watchdog, reloads, passes.
/// Graceful shutdown reaches them in reverse: passes stop after the current batch first, while
/// reloads are still taken and the watchdog still pings.
///
/// What wakes it is injected: `reloadTrigger` (SIGHUP in the daemon; nil with `--once`, which
/// never reloads) and the `PassTimer` it sleeps on between passes, so that tests drive both.
struct RetentionDaemon<ReloadTrigger: AsyncSequence & Sendable>: Service
where ReloadTrigger.Element: Sendable, ReloadTrigger.Failure == Never {
    let settings: DaemonSettings
    let logger: Logger
    let notifier: any LifecycleNotifier
    let reloadTrigger: ReloadTrigger?
    let timer: any PassTimer
    let flags = DaemonFlags()
    let liveness = Liveness()
    let status: DaemonStatus
    let clockGuard: ClockGuard

    init(settings: DaemonSettings, logger: Logger, notifier: any LifecycleNotifier = ServiceNotifier(),
         reloadTrigger: ReloadTrigger?, timer: any PassTimer = SystemPassTimer()) {
        self.settings = settings
        self.logger = logger
        self.notifier = notifier
        self.reloadTrigger = reloadTrigger
        self.timer = timer
        status = DaemonStatus(dryRun: settings.options.dryRun)
        clockGuard = ClockGuard(maximumJump: settings.maximumClockJump, logger: logger)
    }

    var builder: EngineBuilder {
        let status = self.status, notifier = self.notifier
        return EngineBuilder(settings: settings, logger: logger, flags: flags, liveness: liveness) { role in notifier.status(status.role(role)) }
    }

    func run() async throws {
        let engine = try await start()
        notifier.ready(status: status.line(for: engine.current))
        logger.info("retentiond started: \(DaemonStatus.describe(engine.current))")
        do {
            try await ServiceGroup(configuration: ServiceGroupConfiguration(services: services(engine), logger: Self.lifecycleLogger)).run()
        } catch {
            await resign(engine.current.state)
            await engine.current.state.close()
            throw error
        }
        await resign(engine.current.state)
        await engine.current.state.close()
    }

    /// On a shared state, gives up the planner's lease and the claims this daemon still holds, so
    /// that another daemon leads and takes its jobs over at its next pass, not after the lease.
    /// A state out of reach does not stop the stop: the lease then runs out by itself.
    func resign(_ state: any StateStore) async {
        guard let shared = state as? any SharedState else { return }
        do {
            try await shared.resign()
            logger.info("gave up the planner's lease and job claims, if held, as \(shared.daemonID)",
                        metadata: ["lease": "resigned", "daemon": "\(shared.daemonID)"])
        } catch {
            logger.warning("could not give up the planner's lease and job claims as \(shared.daemonID) (\(error.message)); they lapse after the lease (\(shared.claimLease))",
                           metadata: ["lease": "unreachable", "daemon": "\(shared.daemonID)"])
        }
    }

    /// The services on `engine`, in the order they start.
    func services(_ engine: EngineInForce) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        // A reload during a pass is kept (one is enough) for the pass service to see when it is done.
        let (rulesChanged, reloaded) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if !settings.once, let timeout = notifier.watchdogTimeout {
            let watchdog = WatchdogService(timeout: timeout, liveness: liveness, notifier: notifier)
            services.append(.init(service: watchdog, successTerminationBehavior: .ignore))
        }
        if !settings.once, let reloadTrigger {
            let reloads = ReloadService(triggers: reloadTrigger, engine: engine, builder: builder, status: status,
                                        notifier: notifier, logger: logger, rulesChanged: reloaded)
            services.append(.init(service: reloads, successTerminationBehavior: .ignore))
        }
        let passes = PassService(settings: settings, engine: engine, status: status, flags: flags, liveness: liveness,
                                 clockGuard: clockGuard, notifier: notifier, logger: logger, rulesChanged: rulesChanged, timer: timer)
        services.append(.init(service: passes, successTerminationBehavior: .gracefullyShutdownGroup))
        return services
    }

    /// Runs the daemon until a signal in `gracefulShutdownSignals` stops it gracefully, or until
    /// it returns by itself (`--once`). Throws if it could not start.
    func runService(gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: self, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: gracefulShutdownSignals, logger: Self.lifecycleLogger))
        try await group.run()
    }

    /// The service groups' own log: their problems only, not each service starting and stopping.
    static var lifecycleLogger: Logger {
        var logger = Logger(label: "\(Retentiond.identifier).lifecycle")
        logger.logLevel = .warning
        return logger
    }
}
