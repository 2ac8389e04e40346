package import Foundation
package import RetentionRules

/// Which records of a dataset a job touches, as a tree a store renders into its own query language
/// (SQL with bound parameters) or evaluates itself (files).
///
/// Column names here are the dataset's columns, already mapped from the rules' logical fields.
/// Only `condition` and `not` are two-valued; `before` is null when every anchor column is null, which
/// a `WHERE` treats as false — a record whose period has not started is never due.
package indirect enum RecordPredicate: Sendable, Hashable {
    case always
    case never
    /// The earliest present of `columns` is earlier than `cutoff`: some column is — and not earlier
    /// than 0001-01-01 (`RepresentableInstants.earliest`): what is, is a bad value and never due.
    case before(columns: [String], cutoff: Date)
    /// The rule's `when:` holds (SQL `IS TRUE`: unknown counts as not holding).
    case condition(Condition, columns: [String: String])
    /// `column >= cutoff`: the record's anchor in that column is not yet due (for forecasts).
    case notBefore(column: String, cutoff: Date)
    case isNull(String)
    case isNotNull(String)
    /// Null-safe inequality: `column IS DISTINCT FROM value`.
    case distinct(String, from: StoreValue)
    /// The key is not among these (holds on single records).
    case keyNotIn(column: String, keys: [RecordKey])
    case not(RecordPredicate)
    case and([RecordPredicate])
    case or([RecordPredicate])

    /// `lhs AND rhs`, dropping `always`; two `before` tests on the same columns become the earlier
    /// one (a dataset under many rules would otherwise carry a test per rule into every query).
    package static func && (lhs: RecordPredicate, rhs: RecordPredicate) -> RecordPredicate {
        switch (lhs, rhs) {
        case (.always, _): return rhs
        case (_, .always): return lhs
        case (.never, _), (_, .never): return .never
        case (.before(let a, let x), .before(let b, let y)) where a == b: return .before(columns: a, cutoff: min(x, y))
        case (.and, .and(let b)): return b.reduce(lhs) { $0 && $1 }
        case (.and(var items), .before(let columns, let cutoff)):
            if let index = items.firstIndex(where: { if case .before(columns, _) = $0 { true } else { false } }),
               case .before(_, let earlier) = items[index] {
                items[index] = .before(columns: columns, cutoff: min(earlier, cutoff))
                return .and(items)
            }
            return .and(items + [rhs])
        case (.and(let a), _): return .and(a + [rhs])
        case (_, .and(let b)): return .and([lhs] + b)
        default: return .and([lhs, rhs])
        }
    }

    /// `NOT self`, with `always`/`never` and double negation folded.
    package var negated: RecordPredicate {
        switch self {
        case .always: .never
        case .never: .always
        case .not(let inner): inner
        default: .not(self)
        }
    }

    /// `lhs OR rhs`, dropping `never`.
    package static func || (lhs: RecordPredicate, rhs: RecordPredicate) -> RecordPredicate {
        switch (lhs, rhs) {
        case (.never, _): rhs
        case (_, .never): lhs
        case (.always, _), (_, .always): .always
        default: .or([lhs, rhs])
        }
    }

    /// The column holds a representable time (years 0001–9999); false for a bad value, unknown
    /// for null.
    static func representable(_ column: String) -> RecordPredicate {
        .notBefore(column: column, cutoff: RepresentableInstants.earliest) && .not(.notBefore(column: column, cutoff: RepresentableInstants.end))
    }

    /// The column holds a value that is not a representable time: a bad value of the record.
    static func unrepresentable(_ column: String) -> RecordPredicate {
        .not(.notBefore(column: column, cutoff: RepresentableInstants.earliest)) || .notBefore(column: column, cutoff: RepresentableInstants.end)
    }

    /// Every column the predicate reads.
    package var columns: Set<String> {
        switch self {
        case .always, .never: []
        case .before(let columns, _): Set(columns)
        case .notBefore(let column, _): [column]
        case .condition(let condition, let map): Set(condition.fields.compactMap { map[$0.name] })
        case .isNull(let column), .isNotNull(let column), .distinct(let column, _): [column]
        case .keyNotIn(let column, _): [column]
        case .not(let inner): inner.columns
        case .and(let items), .or(let items): items.reduce(into: Set()) { $0.formUnion($1.columns) }
        }
    }
}

// MARK: - Evaluation in Swift

extension RecordPredicate {
    /// Evaluates the predicate on one record with SQL's three-valued logic (nil is unknown), the
    /// way the store's query would, comparing values as its `codec` says: files are filtered this
    /// way, and `explain` shows the same answer the query gives. `paths`: keys are a files store's
    /// paths (a hold on a directory holds what is below it).
    package func evaluate(_ record: [String: StoreValue], key: RecordKey? = nil, paths: Bool = false, codec: some StoreCodec) -> Bool? {
        switch self {
        case .always: return true
        case .never: return false
        case .before(let columns, let cutoff):
            var result: Bool? = false
            for column in columns {
                let value = record[column] ?? .null
                // A value before year 1 (a REAL -Inf, a zero date) is a bad value, never due.
                switch codec.isBefore(value, cutoff) {
                case .some(true): if codec.isBefore(value, RepresentableInstants.earliest) == false { return true }
                case .none: if result == false { result = nil }
                case .some(false): break
                }
            }
            return result
        case .notBefore(let column, let cutoff):
            return codec.isBefore(record[column] ?? .null, cutoff).map { !$0 }
        case .condition(let condition, let map):
            return Self.evaluate(condition, record, map, codec) == true
        case .isNull(let column): return (record[column] ?? .null).isNull
        case .isNotNull(let column): return !(record[column] ?? .null).isNull
        case .distinct(let column, let value): return (record[column] ?? .null) != value
        case .keyNotIn(_, let keys):
            return key.map { key in !keys.contains { $0.holds(key, paths: paths) } } ?? true
        case .not(let inner): return inner.evaluate(record, key: key, paths: paths, codec: codec).map { !$0 }
        case .and(let items):
            var result: Bool? = true
            for item in items {
                switch item.evaluate(record, key: key, paths: paths, codec: codec) {
                case .some(false): return false
                case .none: result = nil
                case .some(true): break
                }
            }
            return result
        case .or(let items):
            var result: Bool? = false
            for item in items {
                switch item.evaluate(record, key: key, paths: paths, codec: codec) {
                case .some(true): return true
                case .none: result = nil
                case .some(false): break
                }
            }
            return result
        }
    }

    static func evaluate(_ condition: Condition, _ record: [String: StoreValue], _ map: [String: String], _ codec: some StoreCodec) -> Bool? {
        func value(_ field: Condition.Field) -> StoreValue { map[field.name].flatMap { record[$0] } ?? .null }
        switch condition {
        case .isNull(let field, let negated):
            return value(field).isNull != negated
        case .comparison(let field, let op, let literal):
            guard let order = codec.order(value(field), literal) else { return nil }
            switch op {
            case .equal: return order == .orderedSame
            case .notEqual: return order != .orderedSame
            case .less: return order == .orderedAscending
            case .greater: return order == .orderedDescending
            case .lessOrEqual: return order != .orderedDescending
            case .greaterOrEqual: return order != .orderedAscending
            }
        case .and(let lhs, let rhs):
            let (a, b) = (evaluate(lhs, record, map, codec), evaluate(rhs, record, map, codec))
            if a == false || b == false { return false }
            return a == nil || b == nil ? nil : true
        case .or(let lhs, let rhs):
            let (a, b) = (evaluate(lhs, record, map, codec), evaluate(rhs, record, map, codec))
            if a == true || b == true { return true }
            return a == nil || b == nil ? nil : false
        case .not(let inner, _):
            return evaluate(inner, record, map, codec).map { !$0 }
        }
    }
}
