import ArgumentParser
import Foundation

/// `retentionctl`: lint, print and check the retention rules (and, later, plan and run jobs).
@main
struct RetentionCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retentionctl",
        abstract: "Check the retention rules; plan, run and inspect retention jobs.",
        discussion: """
            Exit status: 0 success, 1 problems found (errors, or warnings with --strict), 2 usage error.
            """,
        version: "0.1.0",
        subcommands: [LintCommand.self, ScheduleCommand.self, WhenCommand.self, PlanCommand.self, RunCommand.self,
                      JobsCommand.self, ApproveCommand.self, CancelCommand.self, HoldCommand.self, ExplainCommand.self,
                      AuditCommand.self, TestCommand.self, ClockCommand.self]
    )

    /// Like `ParsableCommand.main()`, but usage errors exit 2 as systemd's tools do, not 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
