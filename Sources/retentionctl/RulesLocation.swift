import Foundation
import RetentionRules

/// Where the rules are read from, shared by every command that reads them.
enum RulesLocation {
    /// The installed location.
    static let installed = RetentionConfiguration.installedRules
    /// The rules in a source checkout, used when nothing is installed.
    static let checkout = "rules"

    /// The paths given, or the installed directory, or `rules/` in a checkout.
    static func resolve(_ paths: [String]) throws(CommandFailure) -> [String] {
        if !paths.isEmpty { return paths }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: installed, isDirectory: &isDirectory), isDirectory.boolValue {
            return [installed]
        }
        if FileManager.default.fileExists(atPath: checkout, isDirectory: &isDirectory), isDirectory.boolValue {
            return [checkout]
        }
        throw CommandFailure("no rules given and neither \(installed) nor ./\(checkout) exists: name a file or directory", status: .usage)
    }

    /// Reads the rules, with their diagnostics; a path that cannot be read fails the command.
    static func load(_ paths: [String]) throws -> RulesLoad {
        try RuleSet.load(paths: resolve(paths))
    }

    /// Loads for a command that uses the rules: diagnostics to stderr; any error fails the command.
    static func loadUsable(_ paths: [String]) throws -> RuleSet {
        let load = try load(paths)
        // Warnings belong to lint; here they would bury the output the user asked for.
        for diagnostic in load.diagnostics.errors.sorted(by: { $0.location < $1.location }) {
            Output.error(diagnostic.description)
        }
        if load.diagnostics.hasErrors {
            throw CommandFailure("the rules have errors; fix them first (retentionctl lint shows them all)")
        }
        return load.ruleSet
    }
}
