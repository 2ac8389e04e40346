import ArgumentParser
import Foundation
import Logging
import RetentionEngine
import RetentionRules
import RetentionStores

/// The configuration every engine command reads: rules, stores, state database, secrets.
struct EngineSetup: ParsableArguments {
    @Option(name: .customLong("rules"), help: "Rules file or directory (repeatable; default /etc/retentiond/rules.d, else ./rules).")
    var rulesPaths: [String] = []

    @Option(name: .customLong("stores"), help: "Stores file or directory (repeatable; default /etc/retentiond/stores.d).")
    var storesPaths: [String] = []

    @OptionGroup var state: StateLocation

    @Flag(name: .customLong("init"), help: "Create the state database if it does not exist (without it, a missing one is an error: a mistyped --state must not start afresh without holds and locks).")
    var initialize = false

    @Option(name: .customLong("hmac-key"), help: "File holding the hmac-sha256 key (default: the systemd credential 'hmac-key').")
    var hmacKeyPath: String?

    @Option(name: .customLong("postgres-password-file"), help: "File holding the PostgreSQL password (default: the credential 'postgres-password').")
    var postgresPasswordFile: String?

    /// Loads everything; any error in the configuration is printed, located, and exits 1.
    func engine(options: EngineOptions = EngineOptions(), logger: Logger = ConsoleLogHandler.logger()) throws -> Engine {
        let rules = try RulesLocation.loadUsable(rulesPaths)
        let paths = try StoresLocation.resolve(storesPaths)
        let stores: StoresLoad
        do { stores = try StoreSet.load(paths: paths, rules: rules) } catch {
            Output.error("retentionctl: \(error)")
            throw ExitCode(1)
        }
        for diagnostic in stores.diagnostics.errors.sorted(by: { $0.location < $1.location }) { Output.error(diagnostic.description) }
        if stores.diagnostics.hasErrors {
            Output.error("retentionctl: the stores files have errors; fix them first (retentionctl lint --stores shows them all)")
            throw ExitCode(1)
        }
        var options = options
        options.hmacKey = try StateLocation.loadKey(hmacKeyPath)
        return Engine(rules: rules, stores: stores.storeSet,
                      state: try state.open(creation: initialize ? .ifMissing : .refuse, key: options.hmacKey, anchoring: !options.dryRun),
                      connector: StoreConnectors(postgresPasswordFile: postgresPasswordFile), options: options, logger: logger)
    }
}

/// Where the state database is: `--state`, else `$RETENTIOND_STATE`, else the installed path.
struct StateLocation: ParsableArguments {
    @Option(name: .customLong("state"), help: "The state database (default $RETENTIOND_STATE or /var/lib/retentiond/state.sqlite).")
    var path: String?

    /// Opens the state database; says so when it was just created or has no history, since an
    /// empty past shown as if it were the real one (no holds, no jobs) misleads.
    ///
    /// With `key`, the records appended are sealed with the audit key derived from it
    /// (`AuditKey`), and `verifyAudit` checks the MACs; with `anchoring`, every record appended
    /// is also anchored in the journal.
    func open(creation: StateDatabase.Creation = .refuse, key: HMACKey? = nil, anchoring: Bool = false) throws -> StateDatabase {
        let path = StateDatabase.path(given: path)
        let anchor: (@Sendable (AuditAnchor) -> Void)? = anchoring ? { @Sendable in JournalAnchors.write($0) } : nil
        let state: StateDatabase
        do {
            state = try StateDatabase(path: path, creation: creation, auditKey: key.map { AuditKey(derivedFrom: $0) }, anchor: anchor)
        } catch {
            Output.error("retentionctl: state database \(error)")
            throw ExitCode(1)
        }
        if state.created {
            Output.error("retentionctl: created a new state database at \(path) (readable by its owner only)")
        } else if (try? state.hasHistory()) == false {
            Output.error("retentionctl: note: the state database \(path) has no history: no pass has run and no hold was placed. "
                         + "Is it the right one?")
        }
        return state
    }

    /// The HMAC key from `path`, else the systemd credential `hmac-key`; nil when neither is there.
    static func loadKey(_ path: String?) throws -> HMACKey? {
        do { return try HMACKey.load(path: path) } catch {
            Output.error("retentionctl: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Options that pick which datasets a command acts on.
struct Scope: ParsableArguments {
    @Option(help: "Only this store.")
    var store: String?

    @Option(help: "Only this dataset.")
    var dataset: String?
}

/// `table` for people, `json` for programs.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table
    case json
}

/// Reads `--at` values: an ISO date or date-time; without an offset, local time.
func parseInstant(_ text: String) throws -> Date {
    do {
        return try Timestamp.parse(text).instant(in: RetentionCalendar(timeZone: .current))
    } catch {
        throw ValidationError("--at: \(error)")
    }
}

/// Messages to stderr, one line each, as `retentionctl: LEVEL: message`; fields stay in the journal.
struct ConsoleLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        Output.error("retentionctl: \(event.level): \(event.message)")
    }

    static func logger(quiet: Bool = false) -> Logger {
        var logger = Logger(label: "retentionctl") { _ in ConsoleLogHandler() }
        logger.logLevel = quiet ? .warning : .info
        return logger
    }
}

func printJSON(_ value: some Encodable) throws {
    print(try ScheduleRenderer.json(value))
}
