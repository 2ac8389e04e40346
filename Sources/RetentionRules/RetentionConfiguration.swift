/// The rules and stores an engine runs on, read together so that the stores are checked against
/// the rules. Either all of it is usable, or none of it is: a daemon keeps its last good
/// configuration rather than enforce half of a broken one.
package struct RetentionConfiguration: Sendable {
    package var rules: RuleSet
    package var stores: StoreSet
    /// The warnings (a usable configuration has no errors).
    package var warnings: [Diagnostic]

    /// Where an installed retentiond keeps its rules (`ConfigurationDirectory=retentiond`).
    package static let installedRules = "/etc/retentiond/rules.d"
    /// Where an installed retentiond keeps its stores.
    package static let installedStores = "/etc/retentiond/stores.d"

    /// Reads rules and stores files and directories.
    ///
    /// - Throws: `ConfigurationError.unreadable` when a path cannot be read at all,
    ///   `.invalid` with every error, in file order, when any file has one.
    package static func load(rules rulesPaths: [String], stores storesPaths: [String]) throws(ConfigurationError) -> RetentionConfiguration {
        let rules: RulesLoad, stores: StoresLoad
        do {
            rules = try RuleSet.load(paths: rulesPaths)
            stores = try StoreSet.load(paths: storesPaths, rules: rules.ruleSet)
        } catch {
            throw .unreadable(error)
        }
        let diagnostics = (rules.diagnostics + stores.diagnostics).sorted { $0.location < $1.location }
        guard !diagnostics.hasErrors else { throw .invalid(diagnostics.errors) }
        return RetentionConfiguration(rules: rules.ruleSet, stores: stores.storeSet, warnings: diagnostics.warnings)
    }
}

/// Why a configuration cannot be used.
package enum ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// A file or directory could not be read.
    case unreadable(ConfigurationReadError)
    /// The files have errors, each located.
    case invalid([Diagnostic])

    package var description: String {
        switch self {
        case .unreadable(let error): "\(error)"
        case .invalid(let errors): "\(errors.count) error\(errors.count == 1 ? "" : "s") in the rules and stores files"
        }
    }
}
