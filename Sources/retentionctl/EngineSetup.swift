import ArgumentParser
import CommandLineOptions
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

    /// Loads everything; an error in the configuration is printed, located, and fails the command.
    func engine(options: EngineOptions = EngineOptions(), logger: Logger = ConsoleLogHandler.commandLogger("retentionctl")) async throws -> Engine {
        let configuration = try ConfigurationLocation.loadUsable(rules: rulesPaths, stores: storesPaths)
        var options = options
        options.hmacKey = try HMACKey.load(path: hmacKeyPath)
        let state = try await state.open(creation: initialize ? .ifMissing : .refuse, key: options.hmacKey, anchoring: !options.dryRun)
        return Engine(rules: configuration.rules, stores: configuration.stores, state: state,
                      connector: StoreConnectors(postgresPasswordFile: postgresPasswordFile), options: options, logger: logger)
    }
}
