import Foundation

/// Columns aligned with two spaces between them, the way `systemctl list-units` prints.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: [String]) {
        self.header = header
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    var text: String {
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (index, cell) in cells.enumerated() {
                text += index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
            }
            return text
        }
        return ([line(header.map { $0.uppercased() })] + rows.map(line)).joined(separator: "\n")
    }

    static func csv(_ header: [String], _ rows: [[String]]) -> String {
        // Scalar by scalar, as a CSV reader sees bytes: a quote followed by a combining mark is one
        // Character, which `contains` and `replacingOccurrences` would not take for a quote.
        func quote(_ cell: String) -> String {
            guard cell.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
            var quoted = String.UnicodeScalarView(["\""])
            for scalar in cell.unicodeScalars {
                quoted.append(scalar)
                if scalar == "\"" { quoted.append("\"") }
            }
            quoted.append("\"")
            return String(quoted)
        }
        return ([header] + rows).map { $0.map(quote).joined(separator: ",") + "\r\n" }.joined()
    }
}
