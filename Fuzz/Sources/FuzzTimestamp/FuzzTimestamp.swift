import Foundation
import FuzzSupport
import RetentionRules

/// One input: a command-line timestamp (`2026-05-10T15:00:00+02:00`, `2026-05-10`).
///
/// Invariants: parsing never traps; a wall-clock time prints as text that parses to the same
/// wall-clock time; an instant is a finite date within the years the format can write; reading a
/// wall-clock time in a zone never traps, and in UTC gives the same wall-clock time back.
@main
enum FuzzTimestamp {
    static func main() { runFuzzer(fuzzOne) }
}

let utc = RetentionCalendar(identifier: "UTC")!
let brussels = RetentionCalendar(identifier: "Europe/Brussels")!
let lordHowe = RetentionCalendar(identifier: "Australia/Lord_Howe")!
/// 0001-01-01 and 10000-01-01 with the widest offsets (±18 h) beyond them.
let earliest = Date(timeIntervalSince1970: -62_135_596_800 - 18 * 3_600)
let latest = Date(timeIntervalSince1970: 253_402_300_800 + 18 * 3_600)

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = text(data, size)
    guard let timestamp = try? Timestamp.parse(text) else { return 0 }
    switch timestamp {
    case .instant(let date):
        require(date.timeIntervalSince1970.isFinite && earliest <= date && date <= latest,
                     "\(text.debugDescription) is the instant \(date.timeIntervalSince1970)")
        _ = brussels.format(date)
    case .local(let local):
        let printed = local.description
        guard case .local(let again)? = try? Timestamp.parse(printed), again.description == printed else {
            fatalError("\(text.debugDescription) is the wall-clock time \(printed), which does not parse back")
        }
        let instant = utc.instant(of: local)
        let back = utc.localDateTime(of: instant)
        // Doubles of nominal seconds near the year 9999 are exact to some 30 µs only.
        require(abs(back.nominalSeconds - local.nominalSeconds) < 1e-3,
                     "\(printed) read in UTC is \(instant), which shows \(back)")
        for calendar in [brussels, lordHowe] {
            let date = calendar.instant(of: local)
            require(date.timeIntervalSince1970.isFinite, "\(printed) in \(calendar.timeZone.identifier) is no instant")
            _ = calendar.localDateTime(of: date)
        }
    }
    return 0
}
