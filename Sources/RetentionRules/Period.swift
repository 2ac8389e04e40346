/// A retention period as a rule author writes it: a whole number of calendar units.
///
/// The unit is kept as written: `365d` and `1y` are different periods (a leap year has 366 days),
/// and `12mo` is not normalised to `1y` in the schedule a DPO files.
public struct Period: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A unit of calendar or elapsed time.
    package enum Unit: String, Sendable, Hashable, Codable, CaseIterable {
        /// Exact elapsed time: 3600 seconds.
        case hours = "h"
        /// Calendar days in the rule's zone: wall-clock time is kept across DST changes.
        case days = "d"
        /// Seven calendar days.
        case weeks = "w"
        /// Calendar months, the day clamped to the month's last day.
        case months = "mo"
        /// Calendar years, Feb 29 clamped to Feb 28.
        case years = "y"

        /// Every spelling accepted for the unit.
        package var spellings: [String] {
            switch self {
            case .hours: ["h", "hour", "hours"]
            case .days: ["d", "day", "days"]
            case .weeks: ["w", "week", "weeks"]
            case .months: ["mo", "month", "months"]
            case .years: ["y", "year", "years"]
            }
        }

        /// The short form used when printing.
        var symbol: String { rawValue }
    }

    /// How many units; never negative.
    public var count: Int
    /// The unit.
    var unit: Unit

    /// Creates a duration; `count` must not be negative.
    package init(_ count: Int, _ unit: Unit) {
        precondition(count >= 0, "a duration cannot be negative")
        self.count = count
        self.unit = unit
    }

    /// `10y`, `14mo`, `35d`: parsing this text gives the same duration back.
    public var description: String { "\(count)\(unit.symbol)" }

    /// Whether the period is zero: "as soon as the event happened".
    package var isZero: Bool { count == 0 }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try Period.parse(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Period {
    /// The shortest and longest this duration can be in seconds, over every anchor and every
    /// realistic zone. Used to check that stages are ordered for every anchor, not just most.
    public var secondsRange: ClosedRange<Int64> {
        let n = Int64(count)
        let day: Int64 = 86_400
        // A DST change can make a calendar day an hour shorter or longer; allow two.
        let dstSlack: Int64 = 2 * 3_600
        switch unit {
        case .hours:
            return n * 3_600...n * 3_600
        case .days, .weeks:
            let days = unit == .weeks ? n * 7 : n
            return max(0, days * day - dstSlack)...(days * day + dstSlack)
        case .months, .years:
            let months = unit == .years ? n * 12 : n
            guard months > 0 else { return 0...0 }
            let days = Self.calendarDays(months: Int(months))
            let low = Int64(days.lowerBound) * day - dstSlack
            let high = Int64(days.upperBound) * day + dstSlack
            return max(0, low)...high
        }
    }

    /// The fewest and most calendar days `months` months can span, over every start date of the
    /// 400-year Gregorian cycle. Clamping only shortens a span, most when starting on the last
    /// day of a month longer than the target month.
    static func calendarDays(months: Int) -> ClosedRange<Int> {
        var shortest = Int.max, longest = 0
        for startIndex in 0..<(400 * 12) {
            let year = 2000 + startIndex / 12, month = startIndex % 12 + 1
            let start = LocalDateTime(year: year, month: month, day: 1)
            let target = start.addingMonths(months)
            let plain = target.daysSinceEpoch - start.daysSinceEpoch
            let startLength = LocalDateTime.daysIn(month: month, year: year)
            let targetLength = LocalDateTime.daysIn(month: target.month, year: target.year)
            let clamped = plain + targetLength - startLength
            shortest = min(shortest, plain, clamped)
            longest = max(longest, plain)
        }
        return shortest...longest
    }

    /// Whether this duration ends strictly before `other` for every anchor.
    package func isAlwaysShorter(than other: Period) -> Bool {
        if unit == other.unit { return count < other.count }
        return secondsRange.upperBound < other.secondsRange.lowerBound
    }

    /// Whether this duration ends at or after `other` for every anchor.
    package func isNeverShorter(than other: Period) -> Bool {
        if unit == other.unit { return count >= other.count }
        return secondsRange.lowerBound >= other.secondsRange.upperBound
    }

    /// Roughly how many days: for sorting and for "suspiciously long" warnings, never for due dates.
    public var approximateDays: Double {
        switch unit {
        case .hours: Double(count) / 24
        case .days: Double(count)
        case .weeks: Double(count) * 7
        case .months: Double(count) * 365.2425 / 12
        case .years: Double(count) * 365.2425
        }
    }
}
