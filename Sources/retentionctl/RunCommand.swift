import ArgumentParser
import CommandLineOptions
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
            --dry-run nothing is written anywhere: neither the stores nor the state database. Exits 1 \
            when a job failed, the pass was refused, or the state database or a store failed.
            """
    )

    @OptionGroup var setup: EngineSetup
    @OptionGroup var scope: Scope

    @Flag(help: "Show what would be done; change nothing.")
    var dryRun = false

    @Option(help: "Records per batch (default: adapted so that a batch takes about 20 ms; a dataset's batch-size wins).",
            transform: Int.init(countOption:))
    var batchSize: Int?

    @Option(help: "Deleting more than this percentage of a dataset in one job waits for approval (default 25).")
    var maxDeleteShare: Double?

    @Option(help: "Refuse to act when the last pass was longer ago than this (default 31d): a clock set ahead would delete what is not due. 'retentionctl clock accept' lets a correct clock through.",
            transform: Period.init(option:))
    var maxClockGap: Period?

    @Flag(name: .shortAndLong, help: "Only warnings and errors.")
    var quiet = false

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func run() async throws {
        let engine = try await setup.engine(options: options, logger: ConsoleLogHandler.commandLogger("retentionctl", quiet: quiet || format == .json))
        let started = Date()
        let report = try await runPass(engine)
        let seconds = Date().timeIntervalSince(started)
        switch (format, dryRun) {
        case (.json, _): try JSONOutput.print(PassView(report, dryRun: dryRun, seconds: seconds))
        case (.table, true):
            printDryRun(report)
            if let partitions = PartitionPathsView.text(try await engine.partitionPaths(at: started)) { print(partitions) }
        case (.table, false): try printPass(report, seconds: seconds)
        }
    }

    /// The engine's options from the command line.
    var options: EngineOptions {
        var options = EngineOptions()
        options.store = scope.store
        options.dataset = scope.dataset
        options.dryRun = dryRun
        if let maxClockGap { options.maximumClockGap = maxClockGap.elapsedSeconds }
        if let batchSize { options.batchSize = batchSize }
        if let maxDeleteShare { options.maxDeleteShare = maxDeleteShare / 100 }
        return options
    }

    /// The pass, with each job's progress on a terminal.
    func runPass(_ engine: Engine) async throws -> PassReport {
        let terminal = isatty(STDERR_FILENO) == 1 && !quiet
        // Cleared before a refused or failed pass is reported, too.
        defer { if terminal { Output.progress("") } }
        return try await engine.runPass(at: Date()) { job in
            if terminal {
                let total = max(job.plannedCount, job.doneCount)
                Output.progress("job \(job.id) \(job.action.rawValue) \(job.store)/\(job.dataset): \(job.doneCount)/\(total)")
            }
        }
    }

    func printDryRun(_ report: PassReport) {
        var table = TextTable(["store", "dataset", "rule", "stage", "action", "would touch", "cutoff"])
        for entry in report.wouldPlan {
            table.add([entry.store, entry.dataset, entry.rule, String(entry.stage), entry.action.rawValue,
                       String(entry.due) + (entry.heldBy.map { " (held by #\($0): skipped)" } ?? ""), InstantText.format(entry.cutoff)])
        }
        print(report.wouldPlan.isEmpty ? "dry run: nothing is due" : "dry run: nothing was changed\n\n" + table.text)
    }

    /// The jobs the pass finished and a summary; a failed job fails the command.
    func printPass(_ report: PassReport, seconds: Double) throws {
        if !report.finished.isEmpty {
            print(JobsCommand.table(report.finished))
        }
        for erasure in report.deferred {
            print("deferred: \(erasure.count) records of \(erasure.store)/\(erasure.dataset) under erasure rule \(erasure.rule), by \(erasure.byText)")
        }
        let done = report.finished.filter { $0.state == .done }.reduce(0) { $0 + $1.doneCount }
        let perSecond = seconds > 0 ? Int(Double(done) / seconds) : done
        let waiting = report.waiting.map { "job \($0.id) \($0.state.rawValue)" + ($0.reason.map { " (\($0))" } ?? "") }
        print("\npass finished in \(String(format: "%.2f", seconds)) s: \(report.finished.count) jobs, \(done) records (\(perSecond)/s)"
              + (waiting.isEmpty ? "" : "; \(waiting.count) waiting: " + waiting.joined(separator: "; ")))
        if report.finished.contains(where: { $0.state == .failed }) { throw ExitCode.failure }
    }
}
