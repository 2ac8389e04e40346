import ArgumentParser
import Foundation

/// `retentionctl`: lint, print and check the retention rules; plan, run and inspect retention jobs.
@main
struct RetentionCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retentionctl",
        abstract: "Check the retention rules; plan, run and inspect retention jobs.",
        discussion: """
            Exit status: 0 success, 1 problems found (errors, or warnings with --strict) or a command \
            that failed (a file it cannot read, a state database or store that failed), 2 usage error.
            """,
        version: "0.1.0",
        subcommands: [LintCommand.self, ScheduleCommand.self, WhenCommand.self, PlanCommand.self, RunCommand.self,
                      JobsCommand.self, ApproveCommand.self, CancelCommand.self, HoldCommand.self, ExplainCommand.self,
                      AuditCommand.self, TestCommand.self, ClockCommand.self, StateCommand.self]
    )

    /// Like `AsyncParsableCommand.main()`, with retentionctl's exit statuses (`ExitStatus`): a
    /// command line the parser refuses exits 2, as systemd's tools do, not 64; whatever the command
    /// then meets ends through `CommandFailure.exit(reporting:)`.
    static func main() async {
        let command: any ParsableCommand
        do { command = try parseAsRoot() } catch { exit(refusing: error) }
        do {
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                var command = command
                try command.run()
            }
            await OpenedStates.shared.closeAll()
        } catch {
            await OpenedStates.shared.closeAll()
            // `--help` and `help COMMAND` run as a command of the parser's own, whose "error" is the help.
            if exitCode(for: error) == .success { exit(withError: error) }
            CommandFailure.exit(reporting: error)
        }
    }

    /// The parser's own message and usage for a command line it refused; its help or version.
    private static func exit(refusing error: any Error) -> Never {
        if exitCode(for: error) == .validationFailure {
            Output.error(fullMessage(for: error))
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        exit(withError: error)
    }
}
