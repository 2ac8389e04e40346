import ArgumentParser
import Foundation
import RetentionEngine
import RetentionRules

/// `retentionctl run`: one pass in the foreground.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one pass in the foreground: finish interrupted jobs, plan and run what is due.",
        discussion: """
            Every job is written to the state database before a record is touched and runs in batches, \
            each one transaction; an interrupted run (even kill -9) is finished by the next. With \
            --dry-run nothing is written anywhere: neither the stores nor the state database.
            """
    )

    @OptionGroup var setup: EngineSetup
    @OptionGroup var scope: Scope

    @Flag(help: "Show what would be done; change nothing.")
    var dryRun = false

    @Option(help: "Records per batch (default: adapted so that a batch takes about 20 ms; a dataset's batch-size wins).")
    var batchSize: Int?

    @Option(help: "Deleting more than this percentage of a dataset in one job waits for approval (default 25).")
    var maxDeleteShare: Double?

    @Option(help: "Refuse to act when the last pass was longer ago than this (default 31d): a clock set ahead would delete what is not due. 'retentionctl clock accept' lets a correct clock through.")
    var maxClockGap: String?

    @Flag(name: .shortAndLong, help: "Only warnings and errors.")
    var quiet = false

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func run() async throws {
        var options = EngineOptions()
        options.store = scope.store
        options.dataset = scope.dataset
        options.dryRun = dryRun
        if let maxClockGap {
            do {
                let period = try RetentionRules.Duration.parse(maxClockGap)
                options.maximumClockGap = period.approximateDays * 86_400
            } catch { throw ValidationError("--max-clock-gap: \(error.message)") }
        }
        if let batchSize {
            guard batchSize > 0 else { throw ValidationError("--batch-size must be above 0") }
            options.batchSize = batchSize
        }
        if let maxDeleteShare { options.maxDeleteShare = maxDeleteShare / 100 }
        let engine = try setup.engine(options: options, logger: ConsoleLogHandler.logger(quiet: quiet || format == .json))
        let terminal = isatty(STDERR_FILENO) == 1 && !quiet
        let started = Date()
        let report: PassReport
        do {
            report = try await engine.runPass(at: Date()) { job in
                if terminal {
                    let total = max(job.plannedCount, job.doneCount)
                    Output.progress("job \(job.id) \(job.action.rawValue) \(job.store)/\(job.dataset): \(job.doneCount)/\(total)")
                }
            }
        } catch {
            // A refused pass, a state database or a store that failed: the command's own message
            // and exit status, not the argument parser's generic "Error:".
            if terminal { Output.progress("") }
            Output.error("retentionctl: \(error)")
            throw ExitCode(1)
        }
        if terminal { Output.progress("") }
        let seconds = Date().timeIntervalSince(started)
        if format == .json {
            struct Output: Encodable {
                var dryRun: Bool; var finished: [JobView]; var waiting: [JobView]; var wouldPlan: [PlanEntry]; var deferred: [DeferredErasure]; var seconds: Double
                enum CodingKeys: String, CodingKey { case dryRun = "dry_run", finished, waiting, wouldPlan = "would_plan", deferred, seconds }
            }
            try printJSON(Output(dryRun: dryRun, finished: report.finished.map(JobView.init), waiting: report.waiting.map(JobView.init),
                                 wouldPlan: report.wouldPlan, deferred: report.deferred, seconds: seconds))
            return
        }
        if dryRun {
            var table = TextTable(["store", "dataset", "rule", "stage", "action", "would touch", "cutoff"])
            for entry in report.wouldPlan {
                table.add([entry.store, entry.dataset, entry.rule, String(entry.stage), entry.action.rawValue,
                           String(entry.due) + (entry.heldBy.map { " (held by #\($0): skipped)" } ?? ""), InstantText.format(entry.cutoff)])
            }
            print(report.wouldPlan.isEmpty ? "dry run: nothing is due" : "dry run: nothing was changed\n\n" + table.text)
            return
        }
        if !report.finished.isEmpty {
            print(JobsCommand.table(report.finished))
        }
        for erasure in report.deferred {
            print("deferred: \(erasure.count) records of \(erasure.store)/\(erasure.dataset) under erasure rule \(erasure.rule), by \(erasure.byText)")
        }
        let done = report.finished.filter { $0.state == .done }.reduce(0) { $0 + $1.doneCount }
        let perSecond = seconds > 0 ? Int(Double(done) / seconds) : done
        print("\npass finished in \(String(format: "%.2f", seconds)) s: \(report.finished.count) jobs, \(done) records (\(perSecond)/s)"
              + (report.waiting.isEmpty ? "" : "; \(report.waiting.count) waiting: " + report.waiting.map { "job \($0.id) \($0.state.rawValue)" + ($0.reason.map { " (\($0))" } ?? "") }.joined(separator: "; ")))
        if report.finished.contains(where: { $0.state == .failed }) { throw ExitCode(1) }
    }
}

extension Output {
    /// A status line overwritten in place on a terminal.
    static func progress(_ line: String) {
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }
}
