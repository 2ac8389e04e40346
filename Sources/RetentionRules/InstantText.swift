package import Foundation

/// The text of an instant as retentiond writes and reads it back: ISO 8601 in UTC to the
/// microsecond, fraction without trailing zeros (`2026-05-10T13:00:00.25Z`). It is what the CLI
/// prints, what JSON, CSV, the journal and the state database carry; every module formats and
/// parses that text through here, so that they all agree to the byte. (An instant shown in a
/// rule's zone, `RetentionCalendar.format`, and a timestamp typed by a person, `Timestamp`, are
/// texts for people, with offsets.)
///
/// Its civil form — a space for the `T`, no `Z` (`2026-05-10 13:00:00.25`) — is the UTC text SQL
/// databases print and SQLite stores; the stores' codecs build their column text on it.
package enum InstantText: Sendable {
    /// `date` as ISO 8601 in UTC with microseconds: `2026-05-10T13:00:00.25Z`.
    package static func format(_ date: Date) -> String {
        let text = civil(date)
        return text.prefix(10) + "T" + text.dropFirst(11) + "Z"
    }

    /// Reads what `format` writes (and its shorter forms: `2026-05-10T13:00Z`, `2026-05-10Z`).
    package static func parse(_ text: String) -> Date? {
        guard text.hasSuffix("Z") else { return nil }
        return parseCivil(String(text.dropLast()).replacingOccurrences(of: "T", with: " "))
    }

    /// `date` in UTC to the microsecond as `YYYY-MM-DD HH:MM:SS[.ffffff]`, fraction without
    /// trailing zeros.
    package static func civil(_ date: Date) -> String {
        let pad = LocalDateTime.pad
        let micros = date.microsecondsSince1970
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

    /// Reads `YYYY-MM-DD`, `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS` or with a fraction, as UTC.
    /// Returns nil for anything else (a `T` separator or a zone suffix sorts differently).
    package static func parseCivil(_ text: String) -> Date? {
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
        return Date(microsecondsSince1970: micros)
    }
}
