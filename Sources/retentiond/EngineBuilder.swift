import Logging
import RetentionEngine
import RetentionRules
import RetentionStores

/// Reads the rules and stores and builds an engine on them, wired to the daemon: at start and on
/// every reload, the same way.
struct EngineBuilder: Sendable {
    let settings: DaemonSettings
    let logger: Logger
    let flags: DaemonFlags
    let liveness: Liveness
    /// Told what the daemon is to others on a shared state, for `STATUS=` at once.
    var roleChanged: (@Sendable (String) -> Void)? = nil

    /// Reads the rules and stores; every error is logged with its location. At start-up an error
    /// is fatal (there are no last good rules); on reload it rejects the new files.
    func loadConfiguration(reloading: Bool) throws -> RetentionConfiguration {
        do {
            let configuration = try RetentionConfiguration.load(rules: settings.rulesPaths, stores: settings.storesPaths)
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

    func makeEngine(_ configuration: RetentionConfiguration, state: any StateBackend) throws -> Engine {
        var options = settings.options
        do { options.hmacKey = try HMACKey.load(path: settings.hmacKeyPath) } catch {
            logger.error("\(error)")
            throw error
        }
        options.actor = "retentiond"
        var engine = Engine(rules: configuration.rules, stores: configuration.stores, state: state,
                            connector: StoreConnectors(postgresPasswordFile: settings.postgresPasswordFile), options: options, logger: logger)
        let flags = self.flags, liveness = self.liveness
        engine.stopRequested = { flags.stopRequested }
        // A command store's program running within its timeout is progress too: without this, a
        // call longer than WatchdogSec= would stop the pings and get the daemon killed.
        engine.heartbeat = { liveness.beat() }
        engine.roleChanged = roleChanged
        return engine
    }
}
