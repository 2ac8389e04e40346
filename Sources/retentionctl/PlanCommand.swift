import ArgumentParser
import CommandLineOptions
import Foundation
import RetentionEngine
import RetentionRules

/// `retentionctl plan`: what is due now, or at any instant, and what falls due within a horizon.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what each rule makes due per dataset, now or at any date; writes nothing.",
        discussion: """
            Counts are computed in the stores with the same queries a run uses. --at simulates any \
            instant (a past date shows what should already be gone; a future one what will go). \
            --horizon adds the records that fall due by then, and every line shows when the next record \
            falls due.
            """
    )

    @OptionGroup var setup: EngineSetup
    @OptionGroup var scope: Scope

    @Option(help: "Plan as of this instant (ISO date or date-time; default now).", transform: Date.init(instantOption:))
    var at: Date?

    @Option(help: "Also count what falls due within this period (e.g. 30d, 3mo).", transform: Period.init(option:))
    var horizon: Period?

    @Flag(help: "Also list stages with nothing due.")
    var all = false

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    /// The plan as `--format json` prints it.
    struct View: Encodable {
        var at: String
        var horizon: String?
        var entries: [PlanEntry]
    }

    func run() async throws {
        let now = at ?? Date()
        var options = EngineOptions()
        options.store = scope.store
        options.dataset = scope.dataset
        let engine = try await setup.engine(options: options)
        let plan = try await engine.plan(at: now, horizon: horizon)
        let entries = plan.entries.filter { all || $0.due > 0 || ($0.dueByHorizon ?? 0) > 0 || $0.deferred != nil }
        switch format {
        case .json: try JSONOutput.print(View(at: InstantText.format(now), horizon: horizon?.description, entries: entries))
        case .table:
            printTable(entries, now: now)
            if let partitions = PartitionPathsView.text(try await engine.partitionPaths(at: now)) { print(partitions) }
        }
    }

    func printTable(_ entries: [PlanEntry], now: Date) {
        var header = ["store", "dataset", "rule", "kind", "stage", "action", "due", "cutoff"]
        if let horizon { header.insert("by +\(horizon)", at: 7) }
        header.append("next due")
        var table = TextTable(header)
        for entry in entries {
            var row = [entry.store, entry.dataset, entry.rule, entry.kind.rawValue, String(entry.stage),
                       entry.isDeferral ? "restrict (deferred erasure)" : entry.action.rawValue,
                       Self.due(entry), InstantText.format(entry.cutoff)]
            if horizon != nil { row.insert(entry.dueByHorizon.map(String.init) ?? "-", at: 7) }
            row.append(entry.nextDue.map(InstantText.format) ?? "-")
            table.add(row)
        }
        print(table.text)
        let deferred = entries.compactMap(\.deferred)
        if !deferred.isEmpty { print("\ndeferred erasures (kept and restricted while an obligation runs; deleted when it ends):") }
        for erasure in deferred {
            print("  \(erasure.store)/\(erasure.dataset): \(erasure.count) records under rule \(erasure.rule), deferred by \(erasure.byText)")
        }
        let overdue = entries.reduce(0) { $0 + ($1.overdue ?? 0) }
        if overdue > 0 { print("\n\(overdue) records are past their erasure deadline (deadline violations)") }
        let due = entries.reduce(0) { $0 + $1.due }
        print("\nas of \(InstantText.format(now)): \(due) records due in \(entries.filter { $0.due > 0 }.count) stages"
              + (horizon.map { ", \(entries.reduce(0) { $0 + ($1.dueByHorizon ?? 0) }) due by +\($0)" } ?? ""))
    }

    /// The due count with what qualifies it: a violation, overdue, deferred or held records.
    static func due(_ entry: PlanEntry) -> String {
        var due = String(entry.due)
        if entry.isViolation && entry.due > 0 { due += " VIOLATION" }
        if let overdue = entry.overdue, overdue > 0 { due += " (\(overdue) OVERDUE)" }
        if let deferred = entry.deferred { due += " (\(deferred.count) DEFERRED)" }
        if let hold = entry.heldBy { due += " (hold #\(hold))" }
        return due
    }
}
