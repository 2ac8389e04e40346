import Foundation
import RetentionEngine
import RetentionRules

/// A piece of SQL and the values bound to its placeholders; identifiers are quoted, values never
/// pasted into the text.
struct SQLFragment: Sendable, Hashable {
    var sql: String
    /// The values bound to the placeholders, in order; each connection binds them in its driver's
    /// types (a `.date` as its own column text or a native timestamp).
    var binds: [StoreValue]

    init(_ sql: String, _ binds: [StoreValue] = []) {
        self.sql = sql
        self.binds = binds
    }
}

/// How a store spells placeholders and compares times: the SQL both SQLite and PostgreSQL accept
/// otherwise.
struct SQLDialect: Sendable {
    /// How the timestamps of one column are stored, so a cutoff is bound in the same form.
    enum TimeEncoding: Sendable {
        /// UTC text in SQLite's `YYYY-MM-DD HH:MM:SS[.ffffff]`.
        case text
        /// Seconds since 1970 (INTEGER or REAL columns).
        case unixSeconds
        /// A native timestamp type the driver binds a `Date` to.
        case native
    }

    /// `?` for SQLite, `$n` for PostgreSQL.
    var numberedPlaceholders: Bool
    /// SQLite's unary `+`, which keeps a term from choosing an index: the lower bound of a
    /// `before` test must not turn a key-order walk into a sort of the anchor's whole range.
    var withoutIndex: String { numberedPlaceholders ? "" : "+" }
    /// The key column's type: a hold's key is compared in it (`keyNotIn`).
    var keyType: KeyType = .text
    /// The encoding of each time column; text unless known otherwise.
    var timeEncoding: @Sendable (String) -> TimeEncoding

    /// Renders `predicate` for a `WHERE` clause. `placeholderBase` is the number of binds already
    /// in the statement (PostgreSQL numbers them across the whole statement).
    func render(_ predicate: RecordPredicate, placeholderBase: Int = 0) -> SQLFragment {
        var binds: [StoreValue] = []
        func placeholder(_ bind: StoreValue) -> String {
            binds.append(bind)
            return numberedPlaceholders ? "$\(placeholderBase + binds.count)" : "?"
        }
        func condition(_ node: Condition, _ map: [String: String]) -> String {
            func column(_ field: Condition.Field) -> String { SQLIdentifier.quoted(map[field.name] ?? field.name) }
            switch node {
            case .isNull(let field, let negated): return "\(column(field)) IS \(negated ? "NOT " : "")NULL"
            case .comparison(let field, let op, let value):
                return "\(column(field)) \(op == .notEqual ? "<>" : op.rawValue) \(placeholder(Self.bind(value)))"
            case .and(let lhs, let rhs): return "(\(condition(lhs, map)) AND \(condition(rhs, map)))"
            case .or(let lhs, let rhs): return "(\(condition(lhs, map)) OR \(condition(rhs, map)))"
            case .not(let inner, _): return "(NOT \(condition(inner, map)))"
            }
        }
        func render(_ predicate: RecordPredicate) -> String {
            switch predicate {
            case .always: return "1=1"
            case .never: return "1=0"
            case .before(let columns, let cutoff):
                // The lower bound keeps a bad value (REAL -Inf, a zero date, PostgreSQL -infinity) from being due.
                let tests = columns.map { column in
                    let quoted = SQLIdentifier.quoted(column)
                    return "(\(quoted) < \(placeholder(bind(column, cutoff))) AND \(withoutIndex)\(quoted) >= "
                        + "\(placeholder(bind(column, RepresentableInstants.earliest))))"
                }
                return tests.count == 1 ? tests[0] : "(" + tests.joined(separator: " OR ") + ")"
            case .notBefore(let column, let cutoff):
                return "\(SQLIdentifier.quoted(column)) >= \(placeholder(bind(column, cutoff)))"
            case .condition(let cond, let map): return "((\(condition(cond, map))) IS TRUE)"
            case .isNull(let column): return "\(SQLIdentifier.quoted(column)) IS NULL"
            case .isNotNull(let column): return "\(SQLIdentifier.quoted(column)) IS NOT NULL"
            case .distinct(let column, let value):
                return "\(SQLIdentifier.quoted(column)) IS DISTINCT FROM \(placeholder(value))"
            case .keyNotIn(let column, let keys):
                return keyNotIn(SQLIdentifier.quoted(column), keys, placeholder)
            // `NOT (c >= x)` is `c < x` for a value and null for null alike; written so, an index serves it.
            case .not(.notBefore(let column, let cutoff)):
                return "\(SQLIdentifier.quoted(column)) < \(placeholder(bind(column, cutoff)))"
            case .not(let inner): return "(NOT \(render(inner)))"
            case .and(let items): return items.isEmpty ? "1=1" : "(" + items.map(render).joined(separator: " AND ") + ")"
            case .or(let items): return items.isEmpty ? "1=0" : "(" + items.map(render).joined(separator: " OR ") + ")"
            }
        }
        let sql = render(predicate)
        return SQLFragment(sql, binds)
    }

    /// `column` is none of the held `keys`, each compared in the key column's own type (RecordKey.holds):
    /// a text never meets an integer column as text nor the reverse, which in PostgreSQL fails
    /// the statement (`text <> bigint`) and in SQLite converts one side (`'007'` would be 7).
    func keyNotIn(_ column: String, _ keys: [RecordKey], _ placeholder: (StoreValue) -> String) -> String {
        var exact: [StoreValue] = []
        var numbers: [Int64] = []
        for key in keys {
            switch (keyType, key) {
            case (.integer, .integer(let value)): exact.append(.integer(value))
            // Written for a text column, or typed loosely: it names the integer it reads as.
            case (.integer, .text(let text)): if let value = Int64(text) { exact.append(.integer(value)) }
            case (.text, .text(let text)): exact.append(.text(text))
            // Written before keys kept their type: every text reading as the number is held.
            case (.text, .integer(let value)): numbers.append(value)
            }
        }
        var tests: [String] = []
        // PostgreSQL compares a key of any non-integer type (varchar, uuid) in the text it prints.
        let text = keyType == .text && numberedPlaceholders ? "\(column)::text" : column
        if !exact.isEmpty {
            tests.append("\(text) NOT IN (" + exact.map(placeholder).joined(separator: ", ") + ")")
        }
        if !numbers.isEmpty {
            let list = numbers.map { placeholder(.integer($0)) }.joined(separator: ", ")
            // Held when NULL is not true: a text that reads as no number is not held.
            let reading = numberedPlaceholders
                ? "(CASE WHEN \(text) ~ '^[+-]?[0-9]{1,19}$' THEN \(text)::numeric END)"
                // Signs anywhere pass the test (`-+7` reads as 0): it may hold a few more, never fewer.
                : "(CASE typeof(\(column)) WHEN 'integer' THEN \(column) WHEN 'text' THEN CASE WHEN trim(\(column), '+-0123456789') = '' "
                    + "THEN CAST(\(column) AS INTEGER) END END)"
            tests.append("(\(reading) IN (\(list))) IS NOT TRUE")
        }
        if tests.isEmpty { return "1=1" }
        return tests.count == 1 ? tests[0] : "(" + tests.joined(separator: " AND ") + ")"
    }

    /// `cutoff` in the form `column` stores its times, so that the store compares like with like.
    func bind(_ column: String, _ cutoff: Date) -> StoreValue {
        switch timeEncoding(column) {
        case .text: .text(SQLiteTimeText.cutoff(cutoff))
        case .unixSeconds: .real(cutoff.timeIntervalSince1970)
        case .native: .date(cutoff)
        }
    }

    /// A condition's literal as the value bound for it.
    static func bind(_ literal: Condition.Literal) -> StoreValue {
        switch literal {
        case .string(let text): .text(text)
        case .integer(let value): .integer(value)
        case .real(let value): .real(value)
        }
    }

    /// A test that `column` is one of `keys`: runs of consecutive integers as `BETWEEN` ranges, the
    /// rest as an `IN` list (KeyRuns), starting after `placeholderBase` binds.
    func membership(_ keys: [RecordKey], column: String, placeholderBase: Int = 0) -> SQLFragment {
        let runs = KeyRuns(keys)
        var binds: [StoreValue] = []
        func placeholder(_ bind: StoreValue) -> String {
            binds.append(bind)
            return numberedPlaceholders ? "$\(placeholderBase + binds.count)" : "?"
        }
        var tests = runs.ranges.map { "\(column) BETWEEN \(placeholder(.integer($0.lowerBound))) AND \(placeholder(.integer($0.upperBound)))" }
        if !runs.singles.isEmpty {
            tests.append("\(column) IN (" + runs.singles.map { placeholder(Self.bind($0)) }.joined(separator: ", ") + ")")
        }
        if tests.isEmpty { return SQLFragment("1=0", []) }
        return SQLFragment(tests.count == 1 ? tests[0] : "(" + tests.joined(separator: " OR ") + ")", binds)
    }

    static func bind(_ key: RecordKey) -> StoreValue {
        switch key {
        case .integer(let value): .integer(value)
        case .text(let value): .text(value)
        }
    }
}
