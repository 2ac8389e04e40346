import ArgumentParser
import RetentionRules

/// `retentionctl lint`: every problem of every file, located, in one run.
struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check rules files and report every problem as FILE:LINE:COLUMN.",
        discussion: """
            Reads the given files and directories (*.yaml, *.yml), or /etc/retentiond/rules.d, or rules/ \
            in a source checkout. Exits 0 when there is no error, 1 on errors (or on warnings with \
            --strict), 2 on usage errors.
            """
    )

    @Argument(help: "Rules files or directories.")
    var paths: [String] = []

    @Option(name: .customLong("stores"), help: "Stores files or directories to check against the rules (repeatable).")
    var storesPaths: [String] = []

    @Flag(help: "Treat warnings as errors.")
    var strict = false

    @Flag(name: .shortAndLong, help: "Print only the problems, no summary.")
    var quiet = false

    func run() throws {
        let load = try RulesLocation.load(paths)
        var diagnostics = load.diagnostics
        var storesSummary = ""
        if !storesPaths.isEmpty {
            do {
                let stores = try StoreSet.load(paths: storesPaths, rules: load.ruleSet)
                diagnostics += stores.diagnostics
                let count = stores.storeSet.stores.count
                storesSummary = ", \(count) store\(count == 1 ? "" : "s") in \(stores.storeSet.files.count) file\(stores.storeSet.files.count == 1 ? "" : "s")"
            } catch {
                Output.error("retentionctl: \(error)")
                throw ExitCode(1)
            }
        }
        diagnostics.sort { $0.location < $1.location }
        for diagnostic in diagnostics { print(diagnostic) }
        let errors = diagnostics.errors.count, warnings = diagnostics.warnings.count
        if !quiet {
            let files = load.ruleSet.files.count
            print("\(load.ruleSet.rules.count) rules in \(files) file\(files == 1 ? "" : "s")\(storesSummary): "
                  + "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
        }
        if errors > 0 || (strict && warnings > 0) { throw ExitCode(1) }
    }
}
