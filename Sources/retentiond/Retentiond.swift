import ArgumentParser
import CommandLineOptions
import Foundation
import Logging
import PostgresState
import RetentionEngine
import RetentionRules
import Systemd
import UnixSignals

/// `retentiond`: the retention daemon, run by systemd (`retentiond.service`), by a timer with
/// `--once` (`retentiond-once.timer`), or in a terminal.
@main
struct Retentiond: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retentiond",
        abstract: "Enforce the retention rules: run passes whenever records fall due.",
        discussion: """
            Loads the rules and stores, then runs passes: each finishes interrupted jobs, then plans and \
            runs what is due. Between passes it sleeps until the next record falls due or the next \
            scheduled evaluation (--interval), whichever is first. SIGHUP reloads the rules and stores \
            (a broken file is rejected, located, and the last good rules stay in force); SIGTERM stops \
            after the current batch. Under systemd it reports READY, STATUS, RELOADING, STOPPING and \
            the watchdog, and logs structured entries to the journal.
            """
    )

    @Option(name: .customLong("rules"), help: "Rules file or directory (repeatable; default /etc/retentiond/rules.d).")
    var rulesPaths: [String] = []

    @Option(name: .customLong("stores"), help: "Stores file or directory (repeatable; default /etc/retentiond/stores.d).")
    var storesPaths: [String] = []

    @Option(name: .customLong("state"), help: ArgumentHelp(
        "The state database: a SQLite file, or postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=…] (default $RETENTIOND_STATE or /var/lib/retentiond/state.sqlite).",
        valueName: "file-or-url"))
    var statePath: String?

    @Option(name: .customLong("state-password-file"),
            help: "File holding the PostgreSQL state database's password (default: the credential 'state-postgres-password', else 'postgres-password').")
    var statePasswordFile: String?

    @Option(name: .customLong("daemon-id"), help: ArgumentHelp(
        "Who this daemon is to the others sharing a PostgreSQL state database, in the leader row, job claims and the journal (default HOST:PID).",
        valueName: "name"))
    var daemonID: String?

    @Option(name: .customLong("lease-duration"), help: ArgumentHelp(
        "On a shared PostgreSQL state database: how long the planner's lease and a job's claim last unrenewed, in seconds; a daemon that died, froze or lost the network is taken over after this long (default 30, more than \(Self.minimumLease)).",
        valueName: "seconds"))
    var leaseDuration: Int = 30

    @Flag(name: .customLong("init"), help: "Create the state database if it does not exist. Without it, only a state database in the service's own StateDirectory= is created on first start; elsewhere a missing one is an error (a mistyped --state must not start afresh without holds and locks).")
    var initialize = false

    @Option(name: .customLong("hmac-key"), help: "File holding the hmac-sha256 key (default: the systemd credential 'hmac-key').")
    var hmacKeyPath: String?

    @Option(name: .customLong("postgres-password-file"), help: "File holding the PostgreSQL password (default: the credential 'postgres-password').")
    var postgresPasswordFile: String?

    @Option(help: "The longest sleep between passes, a period as the rules files write one: 1h, 12h, 1d (default 1h).",
            transform: Duration.init(periodOption:))
    var interval: Duration = .seconds(3_600)

    @Option(help: "How far the wall clock may jump ahead of the time that really passed (the boot-time clock) while running before passes are refused until 'retentionctl clock accept' (default 1h).",
            transform: Duration.init(periodOption:))
    var maxClockJump: Duration = .seconds(3_600)

    @Flag(help: "Run one pass and exit (for retentiond-once.timer): 0 if it succeeded, 1 if not.")
    var once = false

    @Flag(help: "Plan and log what would be done; change nothing, write no jobs.")
    var dryRun = false

    @Option(help: "Records per batch (default: adapted so that a batch takes about 20 ms; a dataset's batch-size wins).",
            transform: Int.init(countOption:))
    var batchSize: Int?

    @Option(help: "Where log entries go: journal, console (stderr, as journalctl prints them), or auto (the journal when stderr is journald's stream).")
    var logTarget: LogTarget = .auto

    @Option(help: "trace, debug, info, notice, warning, error or critical (default info).", transform: Logger.Level.init(option:))
    var logLevel: Logger.Level = .info

    enum LogTarget: String, ExpressibleByArgument, CaseIterable {
        case auto, journal, console
    }

    static let identifier = "retentiond"

    /// The shortest lease there may be, in seconds: a claim must outlast every wait between the
    /// renewal that lets a batch go ahead and that batch's commit — a SQLite store's busy timeout
    /// (10 s), the state database's lock timeout (10 s), a fenced PostgreSQL batch's idle limit
    /// (5 s) — or a daemon still inside its batch could be taken over.
    static let minimumLease = 10

    func validate() throws {
        guard leaseDuration > Self.minimumLease else {
            throw ValidationError("--lease-duration must be more than \(Self.minimumLease) seconds (a claim must outlast the longest wait inside a batch: "
                                  + "a SQLite store's busy timeout and the state database's lock timeout, 10 s each); found \(leaseDuration)")
        }
    }

    func run() async throws {
        let toJournal = logTarget == .journal || (logTarget == .auto && Journal.isStandardErrorJournal)
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = toJournal
                ? JournalLogHandler(identifier: Self.identifier, messageID: MessageIDs.forEvent(named:))
                : ConsoleLogHandler(style: .journal(identifier: Self.identifier))
            handler.logLevel = label == Self.identifier ? level : .warning
            return handler
        }
        let logger = Logger(label: Self.identifier)

        var options = EngineOptions()
        options.dryRun = dryRun
        if let batchSize { options.batchSize = batchSize }
        let settings = DaemonSettings(
            rulesPaths: rulesPaths.isEmpty ? [RetentionConfiguration.installedRules] : rulesPaths,
            storesPaths: storesPaths.isEmpty ? [RetentionConfiguration.installedStores] : storesPaths,
            statePath: StateBackends.location(given: statePath),
            stateCreation: Self.stateCreation(for: StateBackends.location(given: statePath), initialize: initialize),
            hmacKeyPath: hmacKeyPath, postgresPasswordFile: postgresPasswordFile,
            interval: interval, once: once,
            maximumClockJump: Double(maxClockJump.components.seconds), options: options,
            statePasswordFile: statePasswordFile, daemonID: daemonID, lease: .seconds(leaseDuration))
        // Trapped before anything else: a reload asked for while the daemon starts waits for it,
        // and one right after READY must not meet SIGHUP's default action.
        let hangups = once ? nil : await UnixSignalsSequence(trapping: .sighup)
        let daemon = RetentionDaemon(settings: settings, logger: logger, reloadTrigger: hangups)
        do {
            try await daemon.runService()
        } catch {
            // The cause is already in the log, located; systemd sees the exit status.
            throw ExitCode(1)
        }
        if once, daemon.flags.anyFailed { throw ExitCode(1) }
    }

    /// `--init`, or the first start of the service: systemd made `StateDirectory=` for it
    /// (`$STATE_DIRECTORY`, colon-separated), and the state database belongs directly in it.
    static func stateCreation(for path: String, initialize: Bool,
                              environment: [String: String] = ProcessInfo.processInfo.environment) -> StateCreation {
        if initialize { return .ifMissing }
        // A server's database is no directory systemd made for this service: only --init creates its tables.
        if PostgresStateStore.isURL(path) { return .refuse }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.resolvingSymlinksInPath().path
        let own = (environment["STATE_DIRECTORY"] ?? "").split(separator: ":").map {
            URL(fileURLWithPath: String($0)).standardizedFileURL.resolvingSymlinksInPath().path
        }
        return own.contains(directory) ? .ifMissing : .refuse
    }
}
