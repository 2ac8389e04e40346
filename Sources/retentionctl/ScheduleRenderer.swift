import Foundation
import RetentionRules

/// Renders a schedule as a terminal table, Markdown or CSV (RFC 4180); its JSON is `Schedule`'s own
/// encoding, written by `JSONOutput`.
enum ScheduleRenderer {
    static func flags(_ entry: Schedule.Entry) -> String {
        var flags: [String] = []
        if entry.ambiguous { flags.append("REVIEW") }
        if entry.lock { flags.append("lock") }
        if entry.review == Review.required.rawValue { flags.append("approval") }
        return flags.joined(separator: ",")
    }

    static func table(_ schedule: Schedule) -> String {
        let header = ["ID", "PERIOD", "FROM", "ALIGN", "WHEN", "DEADLINE", "ENFORCED-BY", "FLAGS", "TITLE"]
        let rows = schedule.rules.map { entry in
            [entry.id, entry.periodSummary, entry.from.joined(separator: "|"), entry.align ?? "-",
             entry.when ?? "-", entry.deadline ?? "-", entry.enforcedBy, flags(entry).isEmpty ? "-" : flags(entry),
             entry.title ?? "-"]
        }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ") + "\n"
        }
        var text = line(header)
        for row in rows { text += line(row) }
        let flagged = schedule.rules.filter(\.ambiguous).count
        let external = schedule.rules.filter { !$0.enforceable }.count
        text += "\n\(schedule.rules.count) rules; \(flagged) flagged REVIEW (ambiguous source, interpretation in the note); "
            + "\(external) enforced outside retentiond. Basis, source and notes: --format markdown, csv or json.\n"
        return text
    }

    static let columns = ["id", "title", "stages", "from", "align", "timezone", "when", "deadline", "lock", "review",
                          "ambiguous", "enforced_by", "enforceable", "basis", "source", "note", "file", "line"]

    static func cells(_ entry: Schedule.Entry) -> [String] {
        [entry.id, entry.title ?? "", entry.periodSummary, entry.from.joined(separator: ", "), entry.align ?? "",
         entry.timezone, entry.when ?? "", entry.deadline ?? "", entry.lock ? "yes" : "no", entry.review,
         entry.ambiguous ? "yes" : "no", entry.enforcedBy, entry.enforceable ? "yes" : "no", entry.basis ?? "",
         entry.source ?? "", entry.note ?? "", entry.file, String(entry.line)]
    }

    static func markdown(_ schedule: Schedule) -> String {
        func escape(_ cell: String) -> String {
            cell.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
        }
        var text = "# Retention schedule\n\n"
        text += "| " + columns.joined(separator: " | ") + " |\n"
        text += "|" + String(repeating: "---|", count: columns.count) + "\n"
        for entry in schedule.rules {
            text += "| " + cells(entry).map(escape).joined(separator: " | ") + " |\n"
        }
        return text
    }

    static func csv(_ schedule: Schedule) -> String {
        TextTable.csv(columns, schedule.rules.map(cells))
    }
}
