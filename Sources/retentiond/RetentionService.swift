import Foundation
import Logging
import RetentionEngine
import RetentionRules
import RetentionStores
import ServiceLifecycle
import Synchronization
import Systemd
import UnixSignals

/// What the daemon was told on its command line.
struct DaemonSettings: Sendable {
    var rulesPaths: [String]
    var storesPaths: [String]
    var statePath: String
    /// Whether a missing state database may be created (`--init`, or the daemon's own `StateDirectory=`).
    var stateCreation: StateDatabase.Creation
    var hmacKeyPath: String?
    var postgresPasswordFile: String?
    /// The longest sleep between passes, whatever the stores say.
    var interval: Swift.Duration
    var once: Bool
    /// Seconds the wall clock may run ahead of the boot-time clock while the daemon runs.
    var maximumClockJump: TimeInterval
    var options: EngineOptions
}

/// The daemon: loads the configuration, tells systemd it is ready, then runs passes, sleeping in
/// between until the earliest of the next record falling due, the next scheduled evaluation, a
/// reload or a stop. Never polls.
///
/// SIGHUP reloads the rules and stores at once, even during a pass (which finishes on the rules it
/// began with); a broken configuration is rejected with every error located, and the last good
/// one stays in force. SIGTERM (graceful shutdown) stops after the current batch.
struct RetentionService: Service {
    let settings: DaemonSettings
    let logger: Logger
    let notifier = ServiceNotifier()
    let liveness = Liveness()
    let clock = ClockState()
    let flags = Flags()

    /// Set from other tasks (the graceful-shutdown handler) and read by the loop and the engine.
    /// The wall clock against the boot-time clock since the start (or the last acceptance), and
    /// since when passes are refused for a clock that jumped ahead (nil while it is trusted).
    final class ClockState: Sendable {
        let watch = Mutex(ClockWatch())
        let refusedSince = Mutex<Date?>(nil)
    }

    final class Flags: Sendable {
        let stop = Atomic<Bool>(false)
        /// A pass failed or a job failed: `--once` exits 1.
        let failed = Atomic<Bool>(false)
    }

    /// Why the loop woke up.
    enum Wake: Sendable, Equatable {
        case timer(Int)
        case reload
        case stop

        /// A timer set before the latest one: its sleep was cut short by another wake.
        func isStale(current generation: Int) -> Bool {
            if case .timer(let set) = self { set != generation } else { false }
        }
    }

    /// The state a pass works with and `STATUS=` reports; replaced whole on reload.
    final class Current: Sendable {
        let engine: Mutex<Engine>
        let summary = Mutex<Summary>(Summary())

        init(_ engine: Engine) { self.engine = Mutex(engine) }
    }

    struct Summary: Sendable {
        var lastPass = "no pass yet"
        /// When the loop will wake, once it sleeps.
        var nextPass: Date?
    }

    func run() async throws {
        let state: StateDatabase
        let key: HMACKey?
        do { key = try HMACKey.load(path: settings.hmacKeyPath) } catch {
            logger.critical("\(error)")
            throw error
        }
        if key == nil {
            logger.warning("no credential '\(HMACKey.credentialName)': audit records are appended without a MAC; rewritten with recomputed hashes, only their journal anchors would show it")
        }
        do {
            state = try StateDatabase(path: settings.statePath, creation: settings.stateCreation, auditKey: key.map { AuditKey(derivedFrom: $0) }) { [logger] anchor in
                Self.writeAnchor(anchor, logger: logger)
            }
        } catch {
            logger.critical("cannot open the state database \(settings.statePath): \(error)")
            throw error
        }
        if state.created {
            logger.notice("created a new state database at \(settings.statePath): no holds, approvals or locked rules yet",
                          metadata: ["event": "\(EngineEvent.stateCreated.rawValue)", "state": "\(settings.statePath)"])
        } else if (try? state.hasHistory()) == false {
            logger.notice("the state database \(settings.statePath) has no history: no pass has run and no hold was placed")
        }
        let current = Current(try makeEngine(try loadConfiguration(reloading: false), state: state))
        let (wakes, continuation) = AsyncStream.makeStream(of: Wake.self, bufferingPolicy: .bufferingNewest(16))
        // Trap SIGHUP before READY: a reload right after start must not meet the default action.
        let hangups = settings.once ? nil : await UnixSignalsSequence(trapping: .sighup)
        notifier.ready(status: status(current))
        logger.info("retentiond started: \(describe(current.engine.withLock { $0 }))")

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                if let hangups {
                    group.addTask { await handleReloads(hangups, current, continuation) }
                }
                if !settings.once {
                    if let timeout = notifier.watchdogTimeout {
                        group.addTask { await pingWatchdog(every: timeout / 2, timeout: timeout) }
                    }
                }
                try await loop(current, wakes: wakes, continuation: continuation)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            flags.stop.store(true, ordering: .relaxed)
            notifier.stopping(status: "stopping after the current batch")
            continuation.yield(.stop)
        }
    }

    func loop(_ current: Current, wakes: AsyncStream<Wake>, continuation: AsyncStream<Wake>.Continuation) async throws {
        var iterator = wakes.makeAsyncIterator()
        var generation = 0
        while !flags.stop.load(ordering: .relaxed) {
            await pass(current)
            if settings.once || flags.stop.load(ordering: .relaxed) { break }
            let latest = Date().addingTimeInterval(Double(settings.interval.components.seconds))
            let wakeAt = await nextWake(current).map { min($0, latest) } ?? latest
            current.summary.withLock { $0.nextPass = wakeAt }
            notifier.status(status(current))
            liveness.setIdle(true)
            generation += 1
            let timer = Task { [generation] in
                try? await Task.sleep(for: .seconds(max(1, wakeAt.timeIntervalSinceNow)))
                if !Task.isCancelled { continuation.yield(.timer(generation)) }
            }
            var wake: Wake?
            repeat { wake = await iterator.next() } while wake?.isStale(current: generation) == true
            timer.cancel()
            if wake == nil || wake == .stop { break }
        }
    }

    /// One pass on the engine in force; its errors are logged, never fatal to the daemon.
    func pass(_ current: Current) async {
        liveness.setIdle(false)
        let engine = current.engine.withLock { $0 }
        guard clockIsTrusted(engine.state) else {
            current.summary.withLock { $0.lastPass = "refusing to act: the clock jumped ahead at \(Self.clock(Date()))" }
            flags.failed.store(true, ordering: .relaxed)
            return
        }
        let liveness = self.liveness
        let started = Date()
        do {
            let report = try await engine.runPass(at: Date()) { _ in liveness.beat() }
            let failed = report.finished.filter { $0.state == .failed }.count
            let records = report.finished.filter { $0.state == .done }.reduce(0) { $0 + $1.doneCount }
            if settings.options.dryRun {
                for entry in report.wouldPlan {
                    logger.info("dry run: would \(entry.action.rawValue) \(entry.due) records of \(entry.store)/\(entry.dataset) under rule \(entry.rule) (cutoff \(InstantText.format(entry.cutoff)))",
                                metadata: ["rule": "\(entry.rule)", "store": "\(entry.store)", "dataset": "\(entry.dataset)", "action": "\(entry.action.rawValue)",
                                           "stage": "\(entry.stage)", "count": "\(entry.due)", "cutoff": "\(InstantText.format(entry.cutoff))"])
                }
            }
            let summary = settings.options.dryRun
                ? "dry run: \(report.wouldPlan.count) jobs would run"
                : "\(report.stopped ? "stopped" : "done"): \(report.finished.count) jobs, \(records) records\(failed > 0 ? ", \(failed) failed" : ""), \(report.waiting.count) waiting"
            current.summary.withLock { $0.lastPass = "last pass \(Self.clock(started)) \(summary)" }
            logger.info("pass \(summary) in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
            if failed > 0 { flags.failed.store(true, ordering: .relaxed) }
        } catch {
            current.summary.withLock { $0.lastPass = "last pass \(Self.clock(started)) failed" }
            logger.error("pass failed: \(error)")
            flags.failed.store(true, ordering: .relaxed)
        }
    }

    /// Whether the wall clock can be trusted for a pass: it has not run ahead of the boot-time clock
    /// since the daemon started (or since it was last accepted), or a person has since accepted it
    /// with `retentionctl clock accept`. A clock that comes back is trusted again by itself.
    func clockIsTrusted(_ state: StateDatabase) -> Bool {
        let now = Date()
        let drift = clock.watch.withLock { $0.drift(wall: now) }
        guard drift > settings.maximumClockJump else {
            // Trusted again: a later jump is a new one, which an acceptance made before it must not cover.
            clock.refusedSince.withLock { $0 = nil }
            return true
        }
        let refusedSince = clock.refusedSince.withLock { since in
            if since == nil { since = now }
            return since!
        }
        if let accepted = try? state.lastClockAcceptance(), accepted >= refusedSince.addingTimeInterval(-settings.maximumClockJump) {
            clock.watch.withLock { $0.rebase(wall: now) }
            clock.refusedSince.withLock { $0 = nil }
            logger.notice("the clock was accepted at \(InstantText.format(accepted)); passes run again", metadata: ["event": "\(EngineEvent.clockRefused.rawValue)"])
            return true
        }
        let hours = Int(drift / 3_600), minutes = Int(drift.truncatingRemainder(dividingBy: 3_600) / 60)
        let message = "refusing to act: the clock reads \(InstantText.format(now)), \(hours) h \(minutes) min ahead of the time that passed since "
            + "the daemon started (more than \(Int(settings.maximumClockJump)) s); a clock set ahead would delete records that are not due. "
            + "If the clock is right now, say so with 'retentionctl clock accept'; otherwise fix it (timedatectl)"
        logger.critical("\(message)", metadata: ["event": "\(EngineEvent.clockRefused.rawValue)"])
        return false
    }

    /// When to wake next, by the stores; nil (sleep the full interval) if they cannot say.
    func nextWake(_ current: Current) async -> Date? {
        let engine = current.engine.withLock { $0 }
        do { return try await engine.nextWake(after: Date()) } catch {
            logger.warning("cannot compute when the next record falls due: \(error); next pass in \(settings.interval)")
            return nil
        }
    }

    // MARK: Reload

    func handleReloads(_ hangups: UnixSignalsSequence, _ current: Current, _ continuation: AsyncStream<Wake>.Continuation) async {
        for await _ in hangups {
            notifier.reloading(status: "reloading the rules and stores")
            if let configuration = try? loadConfiguration(reloading: true) {
                do {
                    let engine = try makeEngine(configuration, state: current.engine.withLock { $0.state })
                    // A reload must not shorten or drop a locked rule: the state database remembers them.
                    try engine.checkLocks()
                    current.engine.withLock { $0 = engine }
                    logger.notice("rules reloaded: \(describe(engine))", metadata: ["event": "\(EngineEvent.rulesReloaded.rawValue)", "count": "\(engine.rules.rules.count)"])
                } catch {
                    logger.error("rules rejected, the rules loaded before stay in force: \(error)", metadata: ["event": "\(EngineEvent.rulesRejected.rawValue)"])
                }
            }
            notifier.ready(status: status(current))
            continuation.yield(.reload)
        }
    }

    /// Reads the rules and stores; every error is logged with its location. At start-up an error
    /// is fatal (there are no last good rules); on reload it rejects the new files.
    func loadConfiguration(reloading: Bool) throws -> Configuration {
        do {
            let configuration = try Configuration.load(rules: settings.rulesPaths, stores: settings.storesPaths)
            for warning in configuration.warnings { logger.debug("\(warning)") }
            return configuration
        } catch {
            if case .invalid(let errors) = error {
                for diagnostic in errors {
                    logger.error("\(diagnostic)", metadata: ["config_file": "\(diagnostic.location.file)", "config_line": "\(diagnostic.location.line)"])
                }
            }
            let consequence = reloading ? "the rules loaded before stay in force" : "not starting"
            logger.error("rules rejected: \(error); \(consequence)", metadata: ["event": "\(EngineEvent.rulesRejected.rawValue)"])
            throw error
        }
    }

    func makeEngine(_ configuration: Configuration, state: StateDatabase) throws -> Engine {
        var options = settings.options
        do { options.hmacKey = try HMACKey.load(path: settings.hmacKeyPath) } catch {
            logger.error("\(error)")
            throw error
        }
        options.actor = "retentiond"
        var engine = Engine(rules: configuration.rules, stores: configuration.stores, state: state,
                            connector: StoreConnectors(postgresPasswordFile: settings.postgresPasswordFile), options: options, logger: logger)
        let flags = self.flags, liveness = self.liveness
        engine.stopRequested = { flags.stop.load(ordering: .relaxed) }
        // A command store's program running within its timeout is progress too: without this, a
        // call longer than WatchdogSec= would stop the pings and get the daemon killed.
        engine.heartbeat = { liveness.beat() }
        return engine
    }

    /// Writes an audit record's anchor to the journal, whatever the log target and level: it is
    /// the copy of the chain that a rewrite of the state database cannot reach.
    static func writeAnchor(_ anchor: AuditAnchor, logger: Logger) {
        let fields: [(name: String, value: String)] = [
            ("MESSAGE", "audit record \(anchor.sequence) appended: chain hash \(anchor.hash)"),
            ("PRIORITY", String(JournalLogHandler.priority(.info))),
            ("SYSLOG_IDENTIFIER", Retentiond.identifier),
            ("MESSAGE_ID", MessageIDs.byEvent[.auditAppended]!),
            ("EVENT", EngineEvent.auditAppended.rawValue),
        ] + anchor.fields
        let result = Journal.send(fields)
        guard result < 0 else { return }
        // A warning the first time (a daemon in a terminal has no journal); each head at debug level.
        let message: Logger.Message = "audit record \(anchor.sequence) is not anchored in the journal (\(String(cString: strerror(-result)))); its head is \(anchor)"
        if unanchoredWarned.exchange(true, ordering: .relaxed) {
            logger.debug(message)
        } else {
            logger.warning("\(message); later records not anchored either are logged at debug level")
        }
    }

    private static let unanchoredWarned = Atomic<Bool>(false)

    // MARK: Watchdog and status

    func pingWatchdog(every period: Swift.Duration, timeout: Swift.Duration) async {
        while !Task.isCancelled {
            if liveness.isAlive(within: timeout) { notifier.watchdog() }
            try? await Task.sleep(for: period)
        }
    }

    func describe(_ engine: Engine) -> String {
        let rules = engine.rules.rules.count, stores = engine.stores.stores.count
        let datasets = engine.stores.stores.reduce(0) { $0 + $1.datasets.count }
        return "\(rules) rules, \(stores) stores, \(datasets) datasets"
    }

    /// `STATUS=`: one line for `systemctl status`.
    func status(_ current: Current) -> String {
        let engine = current.engine.withLock { $0 }
        let summary = current.summary.withLock { $0 }
        let next = summary.nextPass.map { "; next pass \(Self.clock($0))" } ?? ""
        return "\(describe(engine)); \(summary.lastPass)\(next)\(settings.options.dryRun ? " (dry run)" : "")"
    }

    static func clock(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .current).year().month().day().dateSeparator(.dash)
            .time(includingFractionalSeconds: false).timeSeparator(.colon).dateTimeSeparator(.space))
    }
}
