import Foundation
import PropertyBased
import RetentionRules
import Testing

/// One calendar case: an anchor, a period, an alignment, a zone, and the expected due instant as
/// the CLI prints it.
struct CalendarCase: Sendable, CustomTestStringConvertible {
    var anchor: String
    var period: String
    var align: Alignment?
    var zone = "Europe/Brussels"
    var due: String
    var why: String

    var testDescription: String { "\(anchor) + \(period)\(align.map { " (\($0.rawValue))" } ?? "") in \(zone): \(why)" }
}

func instant(_ text: String, zone: String = "Europe/Brussels") throws -> Date {
    try Timestamp.parse(text).instant(in: RetentionCalendar(identifier: zone)!)
}

@Suite("Calendar arithmetic")
struct CalendarTests {
    static let cases: [CalendarCase] = [
        // Month ends and leap days.
        .init(anchor: "2026-01-31T10:00:00+01:00", period: "1mo", due: "2026-02-28T23:59:59.999999+01:00", why: "Jan 31 + 1mo clamps to Feb 28, ending with that day"),
        .init(anchor: "2024-01-31T10:00:00+01:00", period: "1mo", due: "2024-02-29T23:59:59.999999+01:00", why: "clamps to Feb 29 in a leap year"),
        .init(anchor: "2024-02-29T12:00:00+01:00", period: "1y", due: "2025-02-28T23:59:59.999999+01:00", why: "Feb 29 + 1y = Feb 28, ending with that day"),
        .init(anchor: "2024-02-29T12:00:00+01:00", period: "12mo", due: "2025-02-28T23:59:59.999999+01:00", why: "12mo is 1y on Feb 29"),
        .init(anchor: "2024-02-29T12:00:00+01:00", period: "4y", due: "2028-02-29T12:00:00+01:00", why: "Feb 29 + 4y is Feb 29 again"),
        .init(anchor: "2024-02-29T12:00:00+01:00", period: "365d", due: "2025-02-28T12:00:00+01:00", why: "365 days from Feb 29"),
        .init(anchor: "2023-03-01T12:00:00+01:00", period: "365d", due: "2024-02-29T12:00:00+01:00", why: "365d is not 1y across a leap day"),
        .init(anchor: "2023-03-01T12:00:00+01:00", period: "1y", due: "2024-03-01T12:00:00+01:00", why: "1y is a calendar year"),
        .init(anchor: "2026-03-31T00:00:00+02:00", period: "1mo", due: "2026-04-30T23:59:59.999999+02:00", why: "Mar 31 + 1mo = Apr 30"),
        .init(anchor: "2027-01-29T08:00:00+01:00", period: "1mo", due: "2027-02-28T23:59:59.999999+01:00", why: "Jan 29 + 1mo = Feb 28"),
        .init(anchor: "2027-01-28T23:30:00+01:00", period: "1mo", due: "2027-02-28T23:30:00+01:00", why: "Jan 28 + 1mo keeps its time: no clamping"),
        .init(anchor: "2026-04-30T10:00:00+02:00", period: "1mo", due: "2026-05-30T10:00:00+02:00", why: "Apr 30 + 1mo = May 30, not the month end"),
        .init(anchor: "2027-01-30T08:00:00+01:00", period: "1mo", due: "2027-02-28T23:59:59.999999+01:00", why: "Jan 30 + 1mo = Feb 28"),
        .init(anchor: "2025-01-31T10:00:00+01:00", period: "14mo", due: "2026-03-31T10:00:00+02:00", why: "14 months in one step, no double clamping"),
        .init(anchor: "2016-05-10T09:00:00+02:00", period: "10y", due: "2026-05-10T09:00:00+02:00", why: "10 calendar years, leap days included"),
        // DST in both directions: days keep the wall clock, hours are elapsed time.
        .init(anchor: "2026-03-28T12:00:00+01:00", period: "1d", due: "2026-03-29T12:00:00+02:00", why: "spring forward: 1d keeps 12:00 (23 h)"),
        .init(anchor: "2026-03-28T12:00:00+01:00", period: "24h", due: "2026-03-29T13:00:00+02:00", why: "spring forward: 24h is elapsed time"),
        .init(anchor: "2026-10-24T12:00:00+02:00", period: "1d", due: "2026-10-25T12:00:00+01:00", why: "fall back: 1d keeps 12:00 (25 h)"),
        .init(anchor: "2026-10-24T12:00:00+02:00", period: "24h", due: "2026-10-25T11:00:00+01:00", why: "fall back: 24h is elapsed time"),
        .init(anchor: "2026-03-25T09:00:00+01:00", period: "1w", due: "2026-04-01T09:00:00+02:00", why: "a week across spring forward"),
        .init(anchor: "2026-08-31T09:00:00+02:00", period: "6mo", due: "2027-02-28T23:59:59.999999+01:00", why: "months across fall back and a month end"),
        .init(anchor: "2026-03-29T01:30:00+01:00", period: "1h", due: "2026-03-29T03:30:00+02:00", why: "1h across the gap is one elapsed hour"),
        .init(anchor: "2026-03-28T02:30:00+01:00", period: "1d", due: "2026-03-29T03:00:00+02:00", why: "02:30 does not exist: first instant after the gap"),
        .init(anchor: "2026-10-24T02:30:00+02:00", period: "1d", due: "2026-10-25T02:30:00+02:00", why: "02:30 exists twice: the first occurrence"),
        .init(anchor: "2026-10-25T02:10:00+01:00", period: "1d", due: "2026-10-26T03:00:00+01:00", why: "an anchor in the repeated hour reads as the end of the fold"),
        .init(anchor: "2026-10-25T02:10:00+02:00", period: "1d", due: "2026-10-26T02:10:00+01:00", why: "an anchor in the first pass of the fold keeps its wall clock"),
        // Alignment.
        .init(anchor: "2026-05-10T15:00:00+02:00", period: "3y", align: .endOfYear, due: "2030-01-01T00:00:00+01:00", why: "3 years from the end of the year of withdrawal"),
        .init(anchor: "2026-01-01T00:00:00+01:00", period: "1y", align: .endOfYear, due: "2028-01-01T00:00:00+01:00", why: "an anchor at 00:00 on Jan 1 belongs to that year"),
        .init(anchor: "2026-01-15T10:00:00+01:00", period: "1mo", align: .endOfMonth, due: "2026-03-01T00:00:00+01:00", why: "1 month from the end of January"),
        .init(anchor: "2026-01-31T23:59:59+01:00", period: "0d", align: .endOfMonth, due: "2026-02-01T00:00:00+01:00", why: "0d after the end of the month"),
        .init(anchor: "2026-03-28T22:00:00+01:00", period: "1d", align: .endOfDay, due: "2026-03-30T00:00:00+02:00", why: "end of day across spring forward"),
        .init(anchor: "2026-05-10T15:00:00+02:00", period: "0d", align: .endOfDay, due: "2026-05-11T00:00:00+02:00", why: "0d from the end of the day"),
        .init(anchor: "2026-12-31T23:30:00Z", period: "7y", align: .endOfYear, due: "2035-01-01T00:00:00+01:00", why: "23:30 UTC on Dec 31 is already the next year in Brussels"),
        // Zone-local vs UTC arithmetic.
        .init(anchor: "2026-12-31T23:30:00Z", period: "1y", align: .endOfYear, zone: "UTC", due: "2028-01-01T00:00:00+00:00", why: "the same instant in UTC is still Dec 31"),
        .init(anchor: "2026-12-31T23:30:00Z", period: "1y", align: .endOfYear, due: "2029-01-01T00:00:00+01:00", why: "in Brussels it is Jan 1, 2027"),
        .init(anchor: "2026-03-28T12:00:00Z", period: "1d", zone: "UTC", due: "2026-03-29T12:00:00+00:00", why: "UTC has no DST: 1d is 24 h"),
        .init(anchor: "2026-01-31T23:30:00Z", period: "1mo", zone: "UTC", due: "2026-02-28T23:59:59.999999+00:00", why: "in UTC the anchor is Jan 31"),
        .init(anchor: "2026-01-31T23:30:00Z", period: "1mo", due: "2026-03-01T00:30:00+01:00", why: "in Brussels the anchor is Feb 1"),
        .init(anchor: "2026-03-07T02:30:00-05:00", period: "1d", zone: "America/New_York", due: "2026-03-08T03:00:00-04:00", why: "the New York gap on Mar 8"),
        .init(anchor: "2026-04-04T12:00:00+11:00", period: "1d", zone: "Australia/Sydney", due: "2026-04-05T12:00:00+10:00", why: "southern fall back in April"),
        .init(anchor: "2026-01-31T12:00:00+05:30", period: "1mo", zone: "Asia/Kolkata", due: "2026-02-28T23:59:59.999999+05:30", why: "a half-hour offset"),
    ]

    @Test("due instants", arguments: cases)
    func due(_ example: CalendarCase) throws {
        let calendar = try #require(RetentionCalendar(identifier: example.zone))
        let anchor = try Timestamp.parse(example.anchor).instant(in: calendar)
        let due = calendar.due(after: try Period.parse(example.period), from: anchor, alignment: example.align)
        #expect(calendar.format(due) == example.due)
    }

    @Test("on 28 Feb a 1mo rule makes records of 29, 30 and 31 January due by the end of the day, never before 28 January's")
    func monthEndCutoff() throws {
        let calendar = RetentionCalendar(identifier: "Europe/Brussels")!
        let endOfFebruary28 = try instant("2027-02-28T23:59:59.999999+01:00")
        for day in 28...31 {
            for hour in [0, 12, 23] {
                let anchor = try instant("2027-01-\(day)T\(hour < 10 ? "0" : "")\(hour):00:00+01:00")
                #expect(calendar.due(after: .init(1, .months), from: anchor) <= endOfFebruary28, "Jan \(day) \(hour):00")
                // A later anchor never falls due before Jan 28 23:00 does.
                #expect(calendar.due(after: .init(1, .months), from: anchor)
                        >= calendar.due(after: .init(1, .months), from: try instant("2027-01-28T\(hour < 10 ? "0" : "")\(hour):00:00+01:00")))
            }
        }
        let february = try instant("2027-02-01T00:00:00+01:00")
        #expect(calendar.due(after: .init(1, .months), from: february) > endOfFebruary28)
    }

    @Test("unknown zones are refused", arguments: ["Europe/Brusels", "CET+1", "GMT+01:00", "", "Mars/Olympus"])
    func unknownZone(_ name: String) {
        #expect(RetentionCalendar(identifier: name) == nil)
    }

    @Test("civil dates convert both ways for 1600 years")
    func civilRoundTrip() async {
        await propertyCheck(count: 1_000, input: Gen.int(in: -150_000...450_000)) { days in
            let local = LocalDateTime(nominalSeconds: Double(days) * 86_400)
            #expect(local.daysSinceEpoch == days)
            #expect(local.secondOfDay == 0)
        }
    }
}
