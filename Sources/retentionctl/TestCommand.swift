import ArgumentParser
import Foundation
import RetentionEngine
import RetentionRules
import RetentionStores

/// `retentionctl test`: rule tests, as `promtool test rules` and `opa test` run theirs.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run rule tests: records bound to rules, and what must happen to them when (docs/rule-tests.md).",
        discussion: """
            Each test file names rules files, binds rules to a dataset, lists records and the outcome \
            expected at given instants (kept, deleted, violation, deferred, restricted, anonymized). \
            Expectations are evaluated in memory with the planner's own predicates; no store is needed. \
            A failure is reported as FILE:LINE:COLUMN with what was expected and what happened. Exits 0 \
            when every expectation holds, 1 on a failure or an error in a file, 2 on usage errors.
            """
    )

    @Argument(help: "Test files or directories of them (*.yaml, *.yml).")
    var paths: [String]

    @Flag(name: .shortAndLong, help: "Print only the problems, no summary.")
    var quiet = false

    func run() throws {
        let texts: [(file: String, text: String)]
        // The paths are the whole command line: one that cannot be read is a usage error (2).
        do { texts = try ConfigurationFiles.texts(paths) } catch { throw CommandFailure("\(error)", status: .usage) }
        var diagnostics: [Diagnostic] = [], passed = 0, failed = 0
        for (file, text) in texts {
            let (parsed, problems) = RuleTestParser.parse(text, file: file)
            diagnostics += problems
            guard let parsed, problems.errors.isEmpty else { continue }
            let load: RulesLoad
            do { load = try RuleSet.load(paths: parsed.rulePaths) } catch {
                diagnostics.append(.error("\(error)", at: SourceLocation(file: file, line: 1, column: 1)))
                continue
            }
            diagnostics += load.diagnostics.errors
            guard load.diagnostics.errors.isEmpty else { continue }
            let result = RuleTestRunner.run(parsed, rules: load.ruleSet, codec: SQLiteCodec())
            diagnostics += result.diagnostics
            (passed, failed) = (passed + result.passed, failed + result.failed)
        }
        for diagnostic in diagnostics { print(diagnostic) }
        let errors = diagnostics.errors.count - failed
        if !quiet {
            print("\(texts.count) test file\(texts.count == 1 ? "" : "s"): \(passed) passed, \(failed) failed"
                  + (errors > 0 ? ", \(errors) error\(errors == 1 ? "" : "s")" : ""))
        }
        if !diagnostics.errors.isEmpty { throw ExitCode.failure }
    }
}
