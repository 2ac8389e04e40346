import Foundation
import RetentionRules

/// A job keeps the predicate it was planned with, so that a restart after a crash finishes exactly
/// that job. Conditions are stored as their canonical text and parsed back.
extension RecordPredicate: Codable {
    private enum CodingKeys: String, CodingKey {
        case op, columns, cutoff, condition, map, column, value, keys, items
    }

    private enum Op: String, Codable {
        case always, never, before, notBefore = "not-before", condition, isNull = "is-null", isNotNull = "is-not-null", distinct
        case keyNotIn = "key-not-in", not, and, or
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Op.self, forKey: .op) {
        case .always: self = .always
        case .never: self = .never
        case .before:
            let text = try container.decode(String.self, forKey: .cutoff)
            guard let cutoff = InstantText.parse(text) else {
                throw DecodingError.dataCorruptedError(forKey: .cutoff, in: container, debugDescription: "not an ISO instant: \(text)")
            }
            self = .before(columns: try container.decode([String].self, forKey: .columns), cutoff: cutoff)
        case .notBefore:
            let text = try container.decode(String.self, forKey: .cutoff)
            guard let cutoff = InstantText.parse(text) else {
                throw DecodingError.dataCorruptedError(forKey: .cutoff, in: container, debugDescription: "not an ISO instant: \(text)")
            }
            self = .notBefore(column: try container.decode(String.self, forKey: .column), cutoff: cutoff)
        case .condition:
            let text = try container.decode(String.self, forKey: .condition)
            do {
                self = .condition(try Condition.parse(text), columns: try container.decode([String: String].self, forKey: .map))
            } catch {
                throw DecodingError.dataCorruptedError(forKey: .condition, in: container, debugDescription: "\(error)")
            }
        case .isNull: self = .isNull(try container.decode(String.self, forKey: .column))
        case .isNotNull: self = .isNotNull(try container.decode(String.self, forKey: .column))
        case .distinct:
            let value = try container.decodeIfPresent(String.self, forKey: .value)
            self = .distinct(try container.decode(String.self, forKey: .column), from: value.map(StoreValue.text) ?? .null)
        case .keyNotIn:
            self = .keyNotIn(column: try container.decode(String.self, forKey: .column),
                             keys: try container.decode([RecordKey].self, forKey: .keys))
        case .not: self = .not(try container.decode(RecordPredicate.self, forKey: .items))
        case .and: self = .and(try container.decode([RecordPredicate].self, forKey: .items))
        case .or: self = .or(try container.decode([RecordPredicate].self, forKey: .items))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .always: try container.encode(Op.always, forKey: .op)
        case .never: try container.encode(Op.never, forKey: .op)
        case .before(let columns, let cutoff):
            try container.encode(Op.before, forKey: .op)
            try container.encode(columns, forKey: .columns)
            try container.encode(InstantText.format(cutoff), forKey: .cutoff)
        case .notBefore(let column, let cutoff):
            try container.encode(Op.notBefore, forKey: .op)
            try container.encode(column, forKey: .column)
            try container.encode(InstantText.format(cutoff), forKey: .cutoff)
        case .condition(let condition, let map):
            try container.encode(Op.condition, forKey: .op)
            try container.encode(condition.description, forKey: .condition)
            try container.encode(map, forKey: .map)
        case .isNull(let column):
            try container.encode(Op.isNull, forKey: .op)
            try container.encode(column, forKey: .column)
        case .isNotNull(let column):
            try container.encode(Op.isNotNull, forKey: .op)
            try container.encode(column, forKey: .column)
        case .distinct(let column, let value):
            try container.encode(Op.distinct, forKey: .op)
            try container.encode(column, forKey: .column)
            if !value.isNull { try container.encode(value.description, forKey: .value) }
        case .keyNotIn(let column, let keys):
            try container.encode(Op.keyNotIn, forKey: .op)
            try container.encode(column, forKey: .column)
            try container.encode(keys, forKey: .keys)
        case .not(let inner):
            try container.encode(Op.not, forKey: .op)
            try container.encode(inner, forKey: .items)
        case .and(let items):
            try container.encode(Op.and, forKey: .op)
            try container.encode(items, forKey: .items)
        case .or(let items):
            try container.encode(Op.or, forKey: .op)
            try container.encode(items, forKey: .items)
        }
    }
}
