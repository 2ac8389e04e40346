public import Foundation
import RetentionRules

/// Timestamps as SQLite stores them: UTC text `YYYY-MM-DD HH:MM:SS[.ffffff]`, SQLite's own
/// `datetime()` format.
///
/// Such text sorts like the instants it names, so a range query `column < ?` on an index is exact —
/// provided the bound cutoff carries no trailing zeros in its fraction: `10:00:00.5` stored and
/// `10:00:00.500000` bound would compare as "earlier" although they are the same instant.
public enum TimeText: Sendable {
    /// `date` in UTC to the microsecond, fraction without trailing zeros.
    public static func sqlite(_ date: Date) -> String {
        let micros = Self.micros(date)
        let (days, rest) = micros.quotientAndRemainderFloor(dividingBy: 86_400_000_000)
        let (year, month, day) = LocalDateTime.civil(fromDays: Int(days))
        let seconds = rest / 1_000_000, fraction = rest % 1_000_000
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + " "
            + pad(Int(seconds / 3600), 2) + ":" + pad(Int(seconds / 60 % 60), 2) + ":" + pad(Int(seconds % 60), 2)
        if fraction > 0 {
            var digits = pad(Int(fraction), 6)
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text
    }

    /// The shortest text for `date` (`2025-01-01`, `2025-01-01 10:30`, `…:05`, `…:05.5`), for a cutoff
    /// compared with `<` against stored text: a stored `2025-01-01` is then equal to a midnight
    /// cutoff, not before it, whatever precision the application wrote its timestamps in.
    public static func sqliteCutoff(_ date: Date) -> String {
        // From year 10000 on, five digits would sort before "2026": the bound after every
        // four-digit timestamp is a text that sorts after "9999-12-31 23:59:59.999999".
        if date >= endOfRepresentable { return "9999-12-31 24" }
        var text = sqlite(date)
        if text.count == 19 {
            if text.hasSuffix(":00") { text.removeLast(3) }
            if text.hasSuffix(" 00:00") { text.removeLast(6) }
        }
        return text
    }

    /// Reads `YYYY-MM-DD`, `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS` or with a fraction, as UTC.
    /// Returns nil for anything else (a `T` separator or a zone suffix sorts differently).
    public static func parseSQLite(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes.count >= 10, bytes[4] == 45, bytes[7] == 45,
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              (1...12).contains(month), (1...LocalDateTime.daysIn(month: month, year: year)).contains(day) else { return nil }
        var micros = Int64(LocalDateTime.days(year: year, month: month, day: day)) * 86_400_000_000
        if bytes.count > 10 {
            guard bytes[10] == 32, bytes.count >= 16, bytes[13] == 58,
                  let hour = number(11..<13), let minute = number(14..<16), hour < 24, minute < 60 else { return nil }
            micros += Int64(hour * 3600 + minute * 60) * 1_000_000
            if bytes.count > 16 {
                guard bytes.count >= 19, bytes[16] == 58, let second = number(17..<19), second < 60 else { return nil }
                micros += Int64(second) * 1_000_000
                if bytes.count > 19 {
                    // Any number of fraction digits (text from an application), read to the microsecond.
                    guard bytes[19] == 46, bytes.count > 20, bytes[20...].allSatisfy({ (48...57).contains($0) }) else { return nil }
                    let digits = bytes[20..<min(bytes.count, 26)]
                    guard let read = number(20..<(20 + digits.count)) else { return nil }
                    var fraction = Int64(read)
                    for _ in digits.count..<6 { fraction *= 10 }
                    micros += fraction
                }
            }
        }
        return date(micros: micros)
    }

    /// ISO 8601 in UTC with microseconds, for the state database and JSON output.
    public static func iso(_ date: Date) -> String {
        let text = sqlite(date)
        return text.prefix(10) + "T" + text.dropFirst(11) + "Z"
    }

    /// Reads what `iso` writes.
    public static func parseISO(_ text: String) -> Date? {
        guard text.hasSuffix("Z") else { return nil }
        return parseSQLite(String(text.dropLast()).replacingOccurrences(of: "T", with: " "))
    }

    /// The first instant retentiond reads as a time: 0001-01-01T00:00:00Z. Stores may hold
    /// anything (a REAL `-Inf`, an INTEGER of microseconds, a file dated year 318,000); a value
    /// outside `representable` is a bad value of its record — never due, reported — not a time.
    public static let earliestRepresentable = Date(timeIntervalSince1970: -62_135_596_800)
    /// The end of the representable range, exclusive: 10000-01-01T00:00:00Z.
    public static let endOfRepresentable = Date(timeIntervalSince1970: 253_402_300_800)

    /// Whether `date` is a time retentiond computes with (years 0001–9999).
    public static func isRepresentable(_ date: Date) -> Bool {
        date >= earliestRepresentable && date < endOfRepresentable
    }

    /// Whole microseconds since 1970, rounded to the nearest: the grid every cutoff lies on. Total:
    /// a time beyond ±292,000 years (or not finite) saturates instead of trapping, so that a bad
    /// value in a store is that record's problem, never the process's.
    public static func micros(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1e6).rounded()
        guard value.isFinite else { return value.isNaN || value < 0 ? .min : .max }
        return value >= 9.2e18 ? .max : value <= -9.2e18 ? .min : Int64(value)
    }

    /// The instant `micros` microseconds after 1970.
    public static func date(micros: Int64) -> Date {
        Date(timeIntervalSince1970: Double(micros) / 1e6)
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

extension Int64 {
    func quotientAndRemainderFloor(dividingBy divisor: Int64) -> (Int64, Int64) {
        var (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        if remainder < 0 { quotient -= 1; remainder += divisor }
        return (quotient, remainder)
    }
}
