import ArgumentParser
import Foundation
import RetentionEngine
import RetentionRules

/// `retentionctl approve JOB…`
struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "approve",
                                                    abstract: "Let jobs held back by the mass-deletion guard or a review run at the next pass.")

    @OptionGroup var state: StateLocation

    @Option(help: "Who approves (default $SUDO_USER or $USER).")
    var by: String?

    @Argument(help: "Job ids.")
    var jobs: [Int64]

    func run() async throws {
        let state = try await self.state.open()
        try await JobDecisions.apply(to: jobs) { id in
            let job = try await state.approve(id, by: by ?? EngineOptions().actor, at: Date())
            return "job \(job.id) approved: \(job.action.rawValue) \(job.plannedCount) records of \(job.store)/\(job.dataset) at the next pass"
        }
    }
}
