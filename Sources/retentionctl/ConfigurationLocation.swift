import RetentionRules

/// The rules and stores an engine command runs on, read the way the daemon reads them
/// (`RetentionConfiguration.load`): the stores checked against the rules, and all of it usable or
/// none of it.
enum ConfigurationLocation {
    /// Loads for a command that runs the engine: errors to stderr, located, in file order; any
    /// error fails the command. Warnings belong to lint; here they would bury the output asked for.
    static func loadUsable(rules rulesPaths: [String], stores storesPaths: [String]) throws -> RetentionConfiguration {
        let rules = try RulesLocation.resolve(rulesPaths), stores = try StoresLocation.resolve(storesPaths)
        do {
            return try RetentionConfiguration.load(rules: rules, stores: stores)
        } catch .unreadable(let error) {
            throw CommandFailure("\(error)")
        } catch .invalid(let errors) {
            for diagnostic in errors { Output.error(diagnostic.description) }
            throw CommandFailure("the rules and stores files have \(errors.count) error\(errors.count == 1 ? "" : "s"); "
                                 + "fix them first (retentionctl lint --stores shows them all)")
        }
    }
}
