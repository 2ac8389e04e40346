/// A wall-clock date and time with no zone: what a clock on the wall in the rule's zone shows.
///
/// Calendar arithmetic (add months, clamp to the month's end, start of next year) happens here,
/// in proleptic Gregorian integer arithmetic, so that it is exact and fast; `RetentionCalendar`
/// maps between these and instants under a time zone's rules.
public struct LocalDateTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The year (proleptic Gregorian).
    package var year: Int
    /// The month, 1...12.
    package var month: Int
    /// The day of month, 1...31.
    package var day: Int
    /// Seconds since local midnight, 0..<86400, fractions included.
    package var secondOfDay: Double

    /// Creates a wall-clock time.
    package init(year: Int, month: Int, day: Int, secondOfDay: Double = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.secondOfDay = secondOfDay
    }

    /// Creates a wall-clock time from hour, minute and second.
    package init(year: Int, month: Int, day: Int, hour: Int, minute: Int = 0, second: Double = 0) {
        self.init(year: year, month: month, day: day,
                  secondOfDay: Double(hour * 3_600 + minute * 60) + second)
    }

    /// Days since 1970-01-01 of this date.
    package var daysSinceEpoch: Int { Self.days(year: year, month: month, day: day) }

    /// Seconds since 1970-01-01T00:00 *as if this wall-clock time were UTC*.
    public var nominalSeconds: Double { Double(daysSinceEpoch) * 86_400 + secondOfDay }

    /// The wall-clock time whose `nominalSeconds` is `seconds`.
    package init(nominalSeconds seconds: Double) {
        let days = Int((seconds / 86_400).rounded(.down))
        let (y, m, d) = Self.civil(fromDays: days)
        self.init(year: y, month: m, day: d, secondOfDay: seconds - Double(days) * 86_400)
    }

    /// `month` months later, the day clamped to the target month's last day.
    func addingMonths(_ months: Int) -> LocalDateTime {
        let index = year * 12 + (month - 1) + months
        let y = Int((Double(index) / 12).rounded(.down))
        let m = index - y * 12 + 1
        return LocalDateTime(year: y, month: m, day: min(day, Self.daysIn(month: m, year: y)),
                             secondOfDay: secondOfDay)
    }

    /// `days` calendar days later, the same wall-clock time.
    func addingDays(_ days: Int) -> LocalDateTime {
        let (y, m, d) = Self.civil(fromDays: daysSinceEpoch + days)
        return LocalDateTime(year: y, month: m, day: d, secondOfDay: secondOfDay)
    }

    /// 00:00 of the day after this one.
    var startOfNextDay: LocalDateTime {
        let (y, m, d) = Self.civil(fromDays: daysSinceEpoch + 1)
        return LocalDateTime(year: y, month: m, day: d)
    }

    /// 00:00 of the first day of the next month.
    var startOfNextMonth: LocalDateTime {
        month == 12 ? LocalDateTime(year: year + 1, month: 1, day: 1)
            : LocalDateTime(year: year, month: month + 1, day: 1)
    }

    /// 00:00 of 1 January of the next year.
    var startOfNextYear: LocalDateTime { LocalDateTime(year: year + 1, month: 1, day: 1) }

    public static func < (lhs: LocalDateTime, rhs: LocalDateTime) -> Bool {
        lhs.nominalSeconds < rhs.nominalSeconds
    }

    /// `2026-05-10T15:00:00`, fractions of a second only when present.
    public var description: String {
        let whole = Int(secondOfDay.rounded(.down))
        var text = "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))T"
            + "\(Self.pad(whole / 3_600, 2)):\(Self.pad(whole / 60 % 60, 2)):\(Self.pad(whole % 60, 2))"
        let fraction = secondOfDay - Double(whole)
        if fraction > 0 {
            let micros = Int((fraction * 1_000_000).rounded())
            if micros > 0 {
                var digits = Self.pad(min(micros, 999_999), 6)
                while digits.hasSuffix("0") { digits.removeLast() }
                text += "." + digits
            }
        }
        return text
    }

    // MARK: Gregorian arithmetic (H. Hinnant's days_from_civil / civil_from_days)

    /// Whether `year` is a Gregorian leap year.
    static func isLeap(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// The number of days in `month` of `year`.
    package static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Hinnant's algorithm).
    package static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date `days` after 1970-01-01.
    package static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(abs(value))
        let padded = String(repeating: "0", count: max(0, width - digits.count)) + digits
        return value < 0 ? "-" + padded : padded
    }
}
