import ArgumentParser
import Foundation
import RetentionEngine
import RetentionRules

/// `retentionctl clock accept`: the documented way out of a refused clock, instead of SQL.
struct ClockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clock",
        abstract: "Say that the system clock is right after a pass refused it.",
        subcommands: [Accept.self]
    )

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accept the current clock: passes recorded later (under a clock that ran ahead) stop counting.",
            discussion: """
                A pass refuses to act when the clock reads earlier than the last pass (a clock set back) or \
                further after it than is plausible (a clock set ahead, or a host off for over a month). When \
                the clock now reads right, this records that, by whom and when, as a pass of its own: passes \
                recorded later are set aside (kept, marked), and the next pass acts. Check the clock first \
                (timedatectl).
                """
        )

        @OptionGroup var state: StateLocation

        @Option(help: "Who accepts (default $SUDO_USER or $USER).")
        var by: String?

        func run() async throws {
            let state = try await self.state.open()
            let now = Date()
            let voided = try await state.acceptClock(at: now, by: by ?? EngineOptions().actor)
            print("clock accepted at \(InstantText.format(now))" + (voided > 0 ? "; \(voided) passes recorded later were set aside" : ""))
        }
    }
}
