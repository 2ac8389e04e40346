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
    package func instant(in calendar: RetentionCalendar) -> Date {
        switch self {
        case .instant(let date): date
        case .local(let local): calendar.instant(of: local)
        }
    }

    /// Parses `2026-05-10T15:00:00+02:00`, `2026-05-10T13:00Z`, `2026-05-10 15:00`, `2026-05-10`:
    /// `YYYY-MM-DD[(T| )hh:mm[:ss[(.|,)fraction]]][Z|±hh[[:]mm]]`, ASCII digits only.
    public static func parse(_ text: String) throws(TimestampSyntaxError) -> Timestamp {
        // A scanner, not a regular expression: `\d` matches every Unicode digit (`٢٠٢٦`), which
        // `Int` then refuses, and a regex is compiled anew on each call, slower than the date
        // arithmetic that follows.
        var scanner = TimestampScanner(text)
        guard let year = scanner.number(digits: 4), scanner.take("-"), let month = scanner.number(digits: 2),
              scanner.take("-"), let day = scanner.number(digits: 2)
        else { throw TimestampSyntaxError(text: text) }
        var hour = 0, minute = 0, second = 0.0
        if scanner.take("T") || scanner.take(" ") {
            guard let h = scanner.number(digits: 2), scanner.take(":"), let m = scanner.number(digits: 2) else {
                throw TimestampSyntaxError(text: text)
            }
            (hour, minute) = (h, m)
            if scanner.take(":") {
                guard let s = scanner.number(digits: 2) else { throw TimestampSyntaxError(text: text) }
                second = Double(s)
                if scanner.take(".") || scanner.take(",") {
                    let digits = scanner.digits(atMost: 9)
                    guard !digits.isEmpty else { throw TimestampSyntaxError(text: text) }
                    second += Double("0." + digits) ?? 0
                }
            }
        }
        var offset: Int?
        if scanner.take("Z") || scanner.take("z") {
            offset = 0
        } else if let sign = scanner.take("+") ? 1 : scanner.take("-") ? -1 : nil {
            guard let hours = scanner.number(digits: 2) else { throw TimestampSyntaxError(text: text) }
            var minutes = 0
            if scanner.take(":") {
                guard let m = scanner.number(digits: 2) else { throw TimestampSyntaxError(text: text) }
                minutes = m
            } else if let m = scanner.number(digits: 2) {
                minutes = m
            }
            guard minutes < 60, hours * 60 + minutes <= 18 * 60 else {
                throw TimestampSyntaxError(text: text, problem: "no such offset")
            }
            offset = sign * (hours * 3_600 + minutes * 60)
        }
        guard scanner.isAtEnd else { throw TimestampSyntaxError(text: text) }
        // Year 0000 is no year of the calendar retentiond counts in (0001–9999), and an instant
        // before 0001 could not be written to the state database.
        guard year >= 1, (1...12).contains(month), (1...LocalDateTime.daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60
        else { throw TimestampSyntaxError(text: text, problem: "no such date or time") }
        let local = LocalDateTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let offset else { return .local(local) }
        return .instant(Date(timeIntervalSince1970: local.nominalSeconds - Double(offset)))
    }
}

/// Reads a timestamp's text from left to right, byte by byte: every character the format has is
/// ASCII, so any other byte is simply not what was expected.
private struct TimestampScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    var isAtEnd: Bool { index == bytes.count }

    /// Consumes `character` if it comes next.
    mutating func take(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    /// Exactly `digits` ASCII digits as a number, consumed; nil, consuming nothing, otherwise.
    mutating func number(digits: Int) -> Int? {
        guard index + digits <= bytes.count, bytes[index..<index + digits].allSatisfy(Self.isDigit) else { return nil }
        let value = bytes[index..<index + digits].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        index += digits
        return value
    }

    /// Up to `limit` ASCII digits, consumed, as text.
    mutating func digits(atMost limit: Int) -> String {
        let start = index
        while index < bytes.count, index - start < limit, Self.isDigit(bytes[index]) { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}

/// A command-line timestamp that is not ISO 8601.
public struct TimestampSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text given.
    public var text: String
    /// What is wrong, if more than the form.
    public var problem: String?

    /// Creates an error.
    package init(text: String, problem: String? = nil) {
        self.text = text
        self.problem = problem
    }

    public var description: String {
        let what = problem.map { "\($0): " } ?? ""
        return "\(what)expected an ISO 8601 timestamp such as 2026-05-10T15:00:00+02:00, "
            + "2026-05-10T13:00:00Z or 2026-05-10; found '\(text)'"
    }
}
