package import Foundation
package import RetentionEngine
package import RetentionRules

/// SQLite's meaning of its values: text times in `SQLiteTimeText`, numbers as Unix seconds, and
/// its ordering of values of different storage classes — numbers before text, numbers by value.
package struct SQLiteCodec: StoreCodec {
    package init() {}

    /// Native dates, Unix seconds, SQLite text.
    package func time(_ value: StoreValue) -> Date? {
        switch value {
        case .null: nil
        case .date(let date): date
        case .integer(let seconds): Date(timeIntervalSince1970: Double(seconds))
        case .real(let seconds): seconds.isFinite ? Date(timeIntervalSince1970: seconds) : nil
        case .text(let text): SQLiteTimeText.parse(text)
        }
    }

    /// `value < cutoff` as SQLite compares it: text as SQLite text, numbers as Unix seconds.
    /// (`before` also asks the store for `value >= 0001-01-01`: see `RecordPredicate.before`.)
    package func isBefore(_ value: StoreValue, _ cutoff: Date) -> Bool? {
        switch value {
        case .null: nil
        case .date(let date): date.microsecondsSince1970 < cutoff.microsecondsSince1970
        case .integer(let seconds): Double(seconds) < cutoff.timeIntervalSince1970
        case .real(let seconds): seconds < cutoff.timeIntervalSince1970
        case .text(let text): text < SQLiteTimeText.cutoff(cutoff)
        }
    }

    /// SQLite's ordering of values of different storage classes: numbers before text, numbers by value.
    package func order(_ value: StoreValue, _ literal: Condition.Literal) -> ComparisonResult? {
        func order<T: Comparable>(_ a: T, _ b: T) -> ComparisonResult {
            a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame
        }
        let number: Double? = switch literal {
        case .integer(let v): Double(v)
        case .real(let v): v
        case .string: nil
        }
        switch value {
        case .null: return nil
        case .integer(let v):
            if case .integer(let w) = literal { return order(v, w) }
            return number.map { order(Double(v), $0) } ?? .orderedAscending
        case .real(let v): return number.map { order(v, $0) } ?? .orderedAscending
        case .text(let v):
            if case .string(let w) = literal {
                let (a, b) = (Array(v.utf8), Array(w.utf8))
                return a == b ? .orderedSame : a.lexicographicallyPrecedes(b) ? .orderedAscending : .orderedDescending
            }
            return .orderedDescending
        case .date(let d):
            if case .string(let w) = literal { return order(SQLiteTimeText.text(d), w) }
            return number.map { order(d.timeIntervalSince1970, $0) }
        }
    }
}
