import Foundation
import RetentionRules

/// Where the stores are read from: the paths given, else the installed directory.
enum StoresLocation {
    static func resolve(_ paths: [String]) throws(CommandFailure) -> [String] {
        if !paths.isEmpty { return paths }
        guard FileManager.default.fileExists(atPath: RetentionConfiguration.installedStores) else {
            throw CommandFailure("no stores given and \(RetentionConfiguration.installedStores) does not exist: name them with --stores", status: .usage)
        }
        return [RetentionConfiguration.installedStores]
    }

    /// Loads for a command that uses the stores: errors to stderr, located; any error fails the command.
    static func loadUsable(_ paths: [String], rules: RuleSet) throws -> StoreSet {
        let load = try StoreSet.load(paths: resolve(paths), rules: rules)
        for diagnostic in load.diagnostics.errors.sorted(by: { $0.location < $1.location }) { Output.error(diagnostic.description) }
        if load.diagnostics.hasErrors {
            throw CommandFailure("the stores files have errors; fix them first (retentionctl lint --stores shows them all)")
        }
        return load.storeSet
    }
}
