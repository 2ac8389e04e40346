import ArgumentParser
import Foundation
import RetentionEngine
import RetentionRules

/// A job as `jobs --format json` prints it.
struct JobView: Encodable {
    var id: Int64, store: String, dataset: String, rule: String, stage: Int, action: String, state: String
    var reason: String?, cutoff: String, plannedAt: String, notBefore: String, plannedCount: Int, datasetTotal: Int?
    var doneCount: Int, startedAt: String?, finishedAt: String?, decidedBy: String?, violation: Bool, note: String?

    init(_ job: Job) {
        (id, store, dataset, rule, stage, action, state) = (job.id, job.store, job.dataset, job.rule, job.stage + 1, job.action.rawValue, job.state.rawValue)
        (reason, cutoff, plannedAt, notBefore) = (job.reason, InstantText.format(job.cutoff), InstantText.format(job.plannedAt), InstantText.format(job.notBefore))
        (plannedCount, datasetTotal, doneCount) = (job.plannedCount, job.datasetTotal, job.doneCount)
        (startedAt, finishedAt, decidedBy, violation) = (job.startedAt.map(InstantText.format), job.finishedAt.map(InstantText.format), job.decidedBy, job.isViolation)
        note = job.note
    }

    enum CodingKeys: String, CodingKey {
        case id, store, dataset, rule, stage, action, state, reason, cutoff, violation, note
        case plannedAt = "planned_at", notBefore = "not_before", plannedCount = "planned_count", datasetTotal = "dataset_total"
        case doneCount = "done_count", startedAt = "started_at", finishedAt = "finished_at", decidedBy = "decided_by"
    }
}

/// `retentionctl jobs`: the jobs in the state database.
struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "List jobs and their states.")

    @OptionGroup var state: StateLocation

    @Option(name: .customLong("in"), help: "Only jobs in this state (repeatable): \(Job.State.allCases.map(\.rawValue).joined(separator: ", ")).")
    var states: [String] = []

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func run() throws {
        let states = try self.states.map { text in
            guard let state = Job.State(rawValue: text) else {
                throw ValidationError("unknown job state '\(text)': expected \(Job.State.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return state
        }
        let state = try self.state.open()
        let jobs = try state.jobs(in: states)
        if format == .json { try printJSON(jobs.map(JobView.init)); return }
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

/// `retentionctl approve JOB…`
struct ApproveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "approve",
                                                    abstract: "Let jobs held back by the mass-deletion guard or a review run at the next pass.")

    @OptionGroup var state: StateLocation

    @Option(help: "Who approves (default $SUDO_USER or $USER).")
    var by: String?

    @Argument(help: "Job ids.")
    var jobs: [Int64]

    func run() throws {
        let state = try self.state.open()
        try decide(jobs) { id in
            let job = try state.approve(id, by: by ?? EngineOptions().actor, at: Date())
            return "job \(job.id) approved: \(job.action.rawValue) \(job.plannedCount) records of \(job.store)/\(job.dataset) at the next pass"
        }
    }
}

/// `retentionctl cancel JOB…`
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel",
                                                    abstract: "Cancel jobs that have not started (in their grace window or awaiting approval).")

    @OptionGroup var state: StateLocation

    @Option(help: "Who cancels (default $SUDO_USER or $USER).")
    var by: String?

    @Option(name: .customLong("hmac-key"), help: "File holding the hmac-key, from which the audit key is derived (default: the systemd credential 'hmac-key'); a cancelled job is audited.")
    var hmacKeyPath: String?

    @Argument(help: "Job ids.")
    var jobs: [Int64]

    func run() throws {
        let state = try self.state.open(key: try StateLocation.loadKey(hmacKeyPath), anchoring: true)
        try decide(jobs) { id in
            "job \(try state.cancel(id, by: by ?? EngineOptions().actor, at: Date()).id) cancelled"
        }
    }
}

/// Applies an operator's decision to each job, reporting each refusal, and exits 1 if any was refused.
func decide(_ jobs: [Int64], _ decision: (Int64) throws -> String) throws {
    var refused = false
    for id in jobs {
        do { print(try decision(id)) } catch {
            Output.error("retentionctl: \(error)")
            refused = true
        }
    }
    if refused { throw ExitCode(1) }
}
