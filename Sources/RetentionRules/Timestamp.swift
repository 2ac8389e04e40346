public import Foundation

/// An ISO 8601 timestamp as a user types it on the command line.
///
/// With an offset (`Z`, `+01:00`, `+0100`, `+01`) it is an instant; without one
/// (`2026-05-10T15:00`, `2026-05-10`) it is a wall-clock time, read in the rule's zone.
public enum Timestamp: Sendable, Hashable {
    /// A point in time.
    case instant(Date)
    /// A wall-clock time with no zone.
    case local(LocalDateTime)

    /// The instant, reading a wall-clock time in `calendar`'s zone.
    public func instant(in calendar: RetentionCalendar) -> Date {
        switch self {
        case .instant(let date): date
        case .local(let local): calendar.instant(of: local)
        }
    }

    /// Parses `2026-05-10T15:00:00+02:00`, `2026-05-10T13:00Z`, `2026-05-10 15:00`, `2026-05-10`.
    public static func parse(_ text: String) throws(TimestampSyntaxError) -> Timestamp {
        let pattern = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/
        guard let match = text.wholeMatch(of: pattern) else {
            throw TimestampSyntaxError(text: text)
        }
        let year = Int(match.1)!, month = Int(match.2)!, day = Int(match.3)!
        let hour = match.4.map { Int($0)! } ?? 0
        let minute = match.5.map { Int($0)! } ?? 0
        let second = match.6.map { Int($0)! } ?? 0
        let fraction = match.7.map { Double("0." + $0)! } ?? 0
        guard (1...12).contains(month), (1...LocalDateTime.daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60
        else { throw TimestampSyntaxError(text: text, problem: "no such date or time") }
        let local = LocalDateTime(year: year, month: month, day: day, hour: hour, minute: minute,
                                  second: Double(second) + fraction)
        guard let zone = match.8 else { return .local(local) }
        var offset = 0
        if zone != "Z" && zone != "z" {
            let digits = zone.dropFirst().filter(\.isNumber)
            let hours = Int(digits.prefix(2))!, minutes = Int(digits.dropFirst(2)) ?? 0
            guard hours <= 18, minutes < 60 else {
                throw TimestampSyntaxError(text: text, problem: "no such offset")
            }
            offset = (hours * 3_600 + minutes * 60) * (zone.hasPrefix("-") ? -1 : 1)
        }
        return .instant(Date(timeIntervalSince1970: local.nominalSeconds - Double(offset)))
    }
}

/// A command-line timestamp that is not ISO 8601.
public struct TimestampSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text given.
    public var text: String
    /// What is wrong, if more than the form.
    public var problem: String?

    /// Creates an error.
    public init(text: String, problem: String? = nil) {
        self.text = text
        self.problem = problem
    }

    public var description: String {
        let what = problem.map { "\($0): " } ?? ""
        return "\(what)expected an ISO 8601 timestamp such as 2026-05-10T15:00:00+02:00, "
            + "2026-05-10T13:00:00Z or 2026-05-10; found '\(text)'"
    }
}
