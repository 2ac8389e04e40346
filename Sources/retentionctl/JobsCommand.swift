import ArgumentParser
import Foundation
import RetentionEngine
import RetentionRules

/// `retentionctl jobs`: the jobs in the state database.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "List jobs and their states.")

    @OptionGroup var state: StateLocation

    @Option(name: .customLong("in"), help: "Only jobs in this state (repeatable): \(Job.State.allCases.map(\.rawValue).joined(separator: ", ")).",
            transform: Job.State.init(option:))
    var states: [Job.State] = []

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func run() async throws {
        let state = try await self.state.open()
        let jobs = try await state.jobs(in: states)
        if format == .json { try JSONOutput.print(jobs.map(JobView.init)); return }
        print(jobs.isEmpty ? "no jobs" : Self.table(jobs))
    }

    static func table(_ jobs: [Job]) -> String {
        var table = TextTable(["id", "state", "store", "dataset", "rule", "stage", "action", "done", "planned", "cutoff", "reason"])
        for job in jobs {
            table.add([String(job.id), job.state.rawValue, job.store, job.dataset, job.rule, String(job.stage + 1), job.action.rawValue,
                       String(job.doneCount), String(job.plannedCount), InstantText.format(job.cutoff), job.reason ?? job.note ?? job.decidedBy ?? ""])
        }
        return table.text
    }
}
