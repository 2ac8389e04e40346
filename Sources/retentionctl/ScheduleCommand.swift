import ArgumentParser
import Foundation
import RetentionRules

/// `retentionctl schedule`: the retention schedule for the record of processing activities.
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Print the retention schedule of the rules.",
        discussion: """
            One entry per rule: id, title, each stage's period and action, anchors, alignment, condition, \
            deadline, lock, basis, source, note, review flag and who enforces it. The table fits a \
            terminal and leaves out basis, source and note; markdown, csv and json carry everything. \
            The JSON layout is stable (docs/schedule-json.md).
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, markdown, csv, json
    }

    @Argument(help: "Rules files or directories.")
    var paths: [String] = []

    @Option(help: "Output format: \(Format.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: Format = .table

    func run() throws {
        let ruleSet = try RulesLocation.loadUsable(paths)
        let schedule = Schedule(ruleSet)
        switch format {
        case .table: print(ScheduleRenderer.table(schedule), terminator: "")
        case .markdown: print(ScheduleRenderer.markdown(schedule), terminator: "")
        case .csv: print(ScheduleRenderer.csv(schedule), terminator: "")
        case .json: try JSONOutput.print(schedule)
        }
    }
}
