import ArgumentParser
import Foundation
import RetentionRules

/// `retentionctl when`: the instant each stage of a rule falls due for one anchor instant.
struct WhenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "when",
        abstract: "Show when each stage of a rule falls due for an anchor instant.",
        discussion: """
            The anchor is ISO 8601 with an offset or Z (2026-05-10T15:00:00+02:00); without one \
            (2026-05-10, 2026-05-10T15:00) it is read in the rule's time zone. Instants are printed \
            with the rule zone's offset.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Argument(help: "The rule id.")
    var rule: String

    @Option(help: "The anchor instant (ISO 8601).", transform: Timestamp.parse)
    var from: Timestamp

    @Option(name: .customLong("rules"), help: "Rules files or directories (repeatable).")
    var rulesPaths: [String] = []

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    func run() throws {
        let ruleSet = try RulesLocation.loadUsable(rulesPaths)
        guard let rule = ruleSet[rule] else {
            let hint = Suggestion.closest(to: self.rule, among: ruleSet.rules.map(\.id)).map { "; did you mean '\($0)'?" } ?? ""
            throw CommandFailure("no rule '\(self.rule)' in \(ruleSet.files.joined(separator: ", "))\(hint)")
        }
        let anchor = from.instant(in: rule.calendar)
        let report = WhenReport(rule, anchor: anchor)
        switch format {
        case .json: try JSONOutput.print(report)
        case .text: printText(report, rule: rule, anchor: anchor)
        }
    }

    func printText(_ report: WhenReport, rule: Rule, anchor: Date) {
        let calendar = rule.calendar
        print("rule     \(report.rule) (\(report.timezone))")
        print("anchor   \(report.anchor)")
        if let alignment = rule.alignment { print("start    \(report.start) (\(alignment.rawValue))") }
        switch rule.retention {
        case .forever: print("never due: retain: forever")
        case .never: print("retain: none: the data must not be stored; any record found is deleted at once")
        case .stages:
            let width = report.stages.map { $0.after.count }.max() ?? 0
            for (due, stage) in zip(report.stages, rule.retention.stages) {
                let clamped = calendar.isClamped(after: stage.after, from: anchor, alignment: rule.alignment)
                print("\(due.after.padding(toLength: max(width, 8), withPad: " ", startingAt: 0)) "
                      + "\(due.action.padding(toLength: 9, withPad: " ", startingAt: 0)) \(due.due)"
                      + (clamped ? "  (that month has no such day: the period ends with its last day)" : ""))
            }
        }
        if let deadline = report.deadline, let period = rule.deadline { print("deadline \(deadline) (\(period))") }
    }
}
