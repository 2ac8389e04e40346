import ArgumentParser
import Foundation
import RetentionRules
import RetentionStores

/// `retentionctl lint`: every problem of every file, located, in one run.
struct LintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check rules files and report every problem as FILE:LINE:COLUMN.",
        discussion: """
            Reads the given files and directories (*.yaml, *.yml), or /etc/retentiond/rules.d, or rules/ \
            in a source checkout. Exits 0 when there is no error, 1 on errors (or on warnings with \
            --strict), 2 on usage errors. With --live, the stores are also checked against the real \
            stores: tables, keys and columns exist, each column can take what retentiond writes into \
            it, and anchor columns are indexed (a warning with the CREATE INDEX to run); of a PostgreSQL \
            table partitioned by range, a note says which partitions each delete stage due now takes \
            whole and which it deletes row by row, and why. --live reads only; it changes nothing.
            """
    )

    @Argument(help: "Rules files or directories.")
    var paths: [String] = []

    @Option(name: .customLong("stores"), help: "Stores files or directories to check against the rules (repeatable).")
    var storesPaths: [String] = []

    @Flag(help: "Also check the stores against the real databases, directories and programs (read only).")
    var live = false

    @Option(name: .customLong("postgres-password-file"), help: "File holding the PostgreSQL password, for --live (default: the credential 'postgres-password').")
    var postgresPasswordFile: String?

    @Flag(help: "Treat warnings as errors.")
    var strict = false

    @Flag(name: .shortAndLong, help: "Print only the problems, no summary.")
    var quiet = false

    func run() async throws {
        let load = try RulesLocation.load(paths)
        var diagnostics = load.diagnostics
        var storesSummary = ""
        var notes: [LiveCheck.PartitionNote] = []
        let storesPaths = live ? try StoresLocation.resolve(storesPaths) : storesPaths
        if !storesPaths.isEmpty {
            let stores = try StoreSet.load(paths: storesPaths, rules: load.ruleSet)
            diagnostics += stores.diagnostics
            let count = stores.storeSet.stores.count
            storesSummary = ", \(count) store\(count == 1 ? "" : "s") in \(stores.storeSet.files.count) file\(stores.storeSet.files.count == 1 ? "" : "s")"
            // A store whose file has errors is left out of the stores set, so only what parsed is inspected.
            if live {
                diagnostics += await LiveCheck(connector: StoreConnectors(postgresPasswordFile: postgresPasswordFile))
                    .check(stores.storeSet, rules: load.ruleSet)
                if !quiet {
                    notes = await LiveCheck(connector: StoreConnectors(postgresPasswordFile: postgresPasswordFile))
                        .partitionNotes(stores.storeSet, rules: load.ruleSet, at: Date())
                }
                storesSummary += " (checked live)"
            }
        }
        diagnostics.sort { $0.location < $1.location }
        for diagnostic in diagnostics { print(diagnostic) }
        for note in notes { print(note) }
        let errors = diagnostics.errors.count, warnings = diagnostics.warnings.count
        if !quiet {
            let files = load.ruleSet.files.count
            print("\(load.ruleSet.rules.count) rules in \(files) file\(files == 1 ? "" : "s")\(storesSummary): "
                  + "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
        }
        if errors > 0 || (strict && warnings > 0) { throw ExitCode.failure }
    }
}
