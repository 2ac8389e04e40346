import ArgumentParser
import Foundation

/// `retentionctl`: lint, print and check the retention rules (and, later, plan and run jobs).
@main
struct RetentionCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retentionctl",
        abstract: "Check and inspect retentiond's retention rules.",
        discussion: """
            Exit status: 0 success, 1 problems found (errors, or warnings with --strict), 2 usage error.
            """,
        version: "0.1.0",
        subcommands: [LintCommand.self, ScheduleCommand.self, WhenCommand.self]
    )

    /// Like `ParsableCommand.main()`, but usage errors exit 2 as systemd's tools do, not 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
