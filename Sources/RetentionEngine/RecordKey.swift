/// The key of one record: a primary-key value, or a file's path relative to its store.
///
/// Batches go in key order (the store's order), holds name keys, and the audit digest is taken
/// over keys — never over the personal data itself.
package enum RecordKey: Sendable, Hashable, Codable, CustomStringConvertible {
    case integer(Int64)
    case text(String)

    /// The key as an operator types it on the command line.
    package var description: String {
        switch self {
        case .integer(let value): String(value)
        case .text(let value): value
        }
    }

    /// The key with its type, so that text `007` and the number 7 never look alike: `7` for an
    /// integer, `"007"` (quoted, escaped) for text.
    package var typedDescription: String {
        switch self {
        case .integer(let value): String(value)
        case .text(let value): KeyText.quoted(value)
        }
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int64.self) { self = .integer(value) } else {
            self = .text(try container.decode(String.self))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .integer(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        }
    }
}
