import Foundation

/// A `when:` condition: which records a rule applies to.
///
/// Parsed into a tree so that stores can render it as a query with bound parameters; literals are
/// never pasted into SQL. Every node keeps the offset in the condition text where it starts, so
/// that a later check (a field a dataset does not map) points at the right column.
public indirect enum Condition: Sendable, Hashable, CustomStringConvertible {
    /// `FIELD is null` (or `is not null` when `negated`).
    case isNull(Field, negated: Bool)
    /// `FIELD op LITERAL`.
    case comparison(Field, Comparison, Literal)
    /// Both hold.
    case and(Condition, Condition)
    /// Either holds.
    case or(Condition, Condition)
    /// Does not hold.
    case not(Condition, offset: Int)

    /// A logical field named in a condition.
    public struct Field: Sendable, Hashable, CustomStringConvertible {
        /// The field name.
        public var name: String
        /// Offset of the name in the condition text, 0-based, in Unicode scalars.
        package var offset: Int

        /// Creates a field reference.
        package init(_ name: String, offset: Int) {
            self.name = name
            self.offset = offset
        }

        public var description: String { name }
    }

    /// A comparison operator.
    public enum Comparison: String, Sendable, Hashable, CaseIterable {
        case equal = "="
        case notEqual = "!="
        case less = "<"
        case greater = ">"
        case lessOrEqual = "<="
        case greaterOrEqual = ">="
    }

    /// A constant compared against.
    public enum Literal: Sendable, Hashable, CustomStringConvertible {
        case string(String)
        case integer(Int64)
        case real(Double)

        public var description: String {
            switch self {
            case .string(let text): Self.quoted(text)
            case .integer(let value): String(value)
            case .real(let value): Self.positional(value)
            }
        }

        /// `text` in single quotes, each quote doubled. Scalar by scalar, as the lexer reads it:
        /// `replacingOccurrences` compares characters, and a quote followed by a combining mark
        /// (`'\u{7F1}`) is one character that is not `'`, so it was left single.
        static func quoted(_ text: String) -> String {
            var scalars = String.UnicodeScalarView()
            for scalar in text.unicodeScalars {
                scalars.append(scalar)
                if scalar == "'" { scalars.append(scalar) }
            }
            return "'" + String(scalars) + "'"
        }

        /// The shortest text that reads back as `value`, written without an exponent: the
        /// condition language has none, and the canonical text must parse (`1e-06` would not;
        /// `0.000001` does).
        static func positional(_ value: Double) -> String {
            let shortest = String(value)
            guard let e = shortest.firstIndex(where: { $0 == "e" || $0 == "E" }),
                  let exponent = Int(shortest[shortest.index(after: e)...]) else { return shortest }
            var mantissa = Substring(shortest[..<e])
            let sign = mantissa.hasPrefix("-") ? "-" : ""
            if !sign.isEmpty { mantissa.removeFirst() }
            let whole = mantissa.prefix { $0 != "." }
            var digits = String(whole) + mantissa.dropFirst(whole.count + 1)
            // The decimal point goes after `point` digits; pad with zeros on either side so that
            // at least one digit stands before and after it.
            var point = whole.count + exponent
            if point < 1 {
                digits = String(repeating: "0", count: 1 - point) + digits
                point = 1
            }
            if point >= digits.count { digits += String(repeating: "0", count: point - digits.count + 1) }
            return sign + digits.prefix(point) + "." + digits.dropFirst(point)
        }
    }

    /// Every field the condition reads, in order of appearance.
    public var fields: [Field] {
        switch self {
        case .isNull(let field, _), .comparison(let field, _, _): [field]
        case .and(let lhs, let rhs), .or(let lhs, let rhs): lhs.fields + rhs.fields
        case .not(let inner, _): inner.fields
        }
    }

    /// The canonical text: keywords in lower case, one space between tokens, parentheses only
    /// where precedence needs them. Parsing it gives the same tree back (offsets aside).
    public var description: String { render(parentPrecedence: 0) }

    private var precedence: Int {
        switch self {
        case .or: 1
        case .and: 2
        case .not: 3
        case .isNull, .comparison: 4
        }
    }

    private func render(parentPrecedence: Int) -> String {
        let text: String
        switch self {
        case .isNull(let field, let negated):
            text = "\(field.name) is \(negated ? "not " : "")null"
        case .comparison(let field, let op, let literal):
            text = "\(field.name) \(op.rawValue) \(literal)"
        case .and(let lhs, let rhs):
            text = "\(lhs.render(parentPrecedence: 2)) and \(rhs.render(parentPrecedence: 3))"
        case .or(let lhs, let rhs):
            text = "\(lhs.render(parentPrecedence: 1)) or \(rhs.render(parentPrecedence: 2))"
        case .not(let inner, _):
            text = "not \(inner.render(parentPrecedence: 3))"
        }
        return precedence < parentPrecedence ? "(\(text))" : text
    }
}
