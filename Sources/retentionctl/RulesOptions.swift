import ArgumentParser
import Foundation
import RetentionRules

/// Where the rules are read from, shared by every command that reads them.
enum RulesLocation {
    /// The installed location.
    static let installed = Configuration.installedRules
    /// The rules in a source checkout, used when nothing is installed.
    static let checkout = "rules"

    /// The paths given, or the installed directory, or `rules/` in a checkout.
    static func resolve(_ paths: [String]) throws -> [String] {
        if !paths.isEmpty { return paths }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: installed, isDirectory: &isDirectory), isDirectory.boolValue {
            return [installed]
        }
        if FileManager.default.fileExists(atPath: checkout, isDirectory: &isDirectory), isDirectory.boolValue {
            return [checkout]
        }
        throw ValidationError("no rules given and neither \(installed) nor ./\(checkout) exists: name a file or directory")
    }

    /// Reads the rules; a path that cannot be read is reported and exits 1.
    static func load(_ paths: [String]) throws -> RulesLoad {
        do {
            return try RuleSet.load(paths: resolve(paths))
        } catch let error as ConfigurationReadError {
            Output.error("retentionctl: \(error)")
            throw ExitCode(1)
        }
    }

    /// Loads for a command that uses the rules: diagnostics to stderr; any error exits 1.
    static func loadUsable(_ paths: [String]) throws -> RuleSet {
        let load = try load(paths)
        // Warnings belong to lint; here they would bury the output the user asked for.
        for diagnostic in load.diagnostics.errors.sorted(by: { $0.location < $1.location }) {
            Output.error(diagnostic.description)
        }
        if load.diagnostics.hasErrors {
            Output.error("retentionctl: the rules have errors; fix them first (retentionctl lint shows them all)")
            throw ExitCode(1)
        }
        return load.ruleSet
    }
}

/// Where the stores are read from: the paths given, else the installed directory.
enum StoresLocation {
    static func resolve(_ paths: [String]) throws -> [String] {
        if !paths.isEmpty { return paths }
        guard FileManager.default.fileExists(atPath: Configuration.installedStores) else {
            throw ValidationError("no stores given and \(Configuration.installedStores) does not exist: name them with --stores")
        }
        return [Configuration.installedStores]
    }
}

enum Output {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
