import Foundation
import FuzzSupport
import RetentionRules

/// One input: the text of a duration (`10y`, `14 months`, `0d`).
///
/// Invariants: parsing never traps; a parsed duration prints as text that parses to the same
/// duration; it stays within the documented bounds; and the calendar arithmetic it drives never
/// traps, never ends a period before its anchor and is monotone (a later anchor never falls due
/// earlier), in zones with awkward transitions and with every alignment.
@main
enum FuzzDuration {
    static func main() { runFuzzer(fuzzOne) }
}

/// Zones whose rules make calendar arithmetic hard: DST at 02:00 (Brussels), by half an hour
/// (Lord Howe), and a whole day skipped (Apia, end of 2011).
let calendars = ["Europe/Brussels", "Australia/Lord_Howe", "Pacific/Apia"]
    .map { RetentionCalendar(identifier: $0)! }

/// Anchors in increasing order around month ends, a leap day, DST changes and Apia's lost day.
let anchors: [Date] = [
    "2011-12-29T09:59:59Z", "2011-12-29T10:00:00Z", "2011-12-30T10:00:00Z", "2024-01-31T23:30:00Z",
    "2024-02-29T12:00:00Z", "2024-03-31T00:59:59Z", "2024-03-31T01:00:00Z", "2024-10-27T00:30:00Z",
    "2024-10-27T01:30:00Z", "2024-12-31T23:59:59.999999Z", "2026-02-28T23:00:00Z",
].map { text in
    guard case .instant(let date) = try! Timestamp.parse(text) else { fatalError("\(text) has no offset") }
    return date
}

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = text(data, size)
    guard let duration = try? Period.parse(text) else { return 0 }
    let printed = duration.description
    guard let again = try? Period.parse(printed), again == duration else {
        fatalError("\(text.debugDescription) parsed as \(duration), which prints as \(printed.debugDescription) and does not parse back")
    }
    require(duration.count >= 0 && duration.count <= 100_000, "\(text.debugDescription): count \(duration.count)")
    require(duration.approximateDays <= Double(Period.maximumYears) * 365.2425, "\(duration) is too long")
    let range = duration.secondsRange
    require(range.lowerBound >= 0, "\(duration): negative shortest length")
    // The zone and the alignment are taken from the input, so that every one is reached without
    // multiplying the work of each execution.
    let alignments: [Alignment?] = [nil] + Alignment.allCases
    let alignment = alignments[size % alignments.count]
    let calendar = calendars[Int(data?[0] ?? 0) % calendars.count]
    var previous: Date?
    for anchor in anchors {
        let due = calendar.due(after: duration, from: anchor, alignment: alignment)
        require(due.timeIntervalSince1970.isFinite, "\(duration) from \(anchor): due is not a number")
        require(due >= anchor, "\(duration) from \(anchor) in \(calendar.timeZone.identifier) is due before the anchor: \(due)")
        if let previous {
            require(previous <= due, "\(duration) in \(calendar.timeZone.identifier), alignment \(String(describing: alignment)): "
                    + "a later anchor \(anchor) falls due at \(due), before \(previous)")
        }
        previous = due
    }
    return 0
}
