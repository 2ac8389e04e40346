package import Foundation
import RetentionEngine
import RetentionRules

/// Timestamps as SQLite stores them: UTC text `YYYY-MM-DD HH:MM:SS[.ffffff]`, SQLite's own
/// `datetime()` format (`InstantText.civil`).
///
/// Such text sorts like the instants it names, so a range query `column < ?` on an index is exact —
/// provided the bound cutoff carries no trailing zeros in its fraction: `10:00:00.5` stored and
/// `10:00:00.500000` bound would compare as "earlier" although they are the same instant.
package enum SQLiteTimeText: Sendable {
    /// `date` in UTC to the microsecond, fraction without trailing zeros.
    package static func text(_ date: Date) -> String {
        InstantText.civil(date)
    }

    /// The shortest text for `date` (`2025-01-01`, `2025-01-01 10:30`, `…:05`, `…:05.5`), for a cutoff
    /// compared with `<` against stored text: a stored `2025-01-01` is then equal to a midnight
    /// cutoff, not before it, whatever precision the application wrote its timestamps in.
    package static func cutoff(_ date: Date) -> String {
        // From year 10000 on, five digits would sort before "2026": the bound after every
        // four-digit timestamp is a text that sorts after "9999-12-31 23:59:59.999999".
        if date >= RepresentableInstants.end { return "9999-12-31 24" }
        var text = text(date)
        if text.count == 19 {
            if text.hasSuffix(":00") { text.removeLast(3) }
            if text.hasSuffix(" 00:00") { text.removeLast(6) }
        }
        return text
    }

    /// Reads `YYYY-MM-DD`, `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS` or with a fraction, as UTC.
    /// Returns nil for anything else (a `T` separator or a zone suffix sorts differently).
    package static func parse(_ text: String) -> Date? {
        InstantText.parseCivil(text)
    }
}
