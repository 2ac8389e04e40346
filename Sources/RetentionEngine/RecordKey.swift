/// The key of one record: a primary-key value, or a file's path relative to its store.
///
/// Batches go in key order (the store's order), holds name keys, and the audit digest is taken
/// over keys — never over the personal data itself.
public enum RecordKey: Sendable, Hashable, Codable, CustomStringConvertible {
    case integer(Int64)
    case text(String)

    /// The key as an operator types it on the command line.
    public var description: String {
        switch self {
        case .integer(let value): String(value)
        case .text(let value): value
        }
    }

    /// Reads a key typed by an operator: a whole number is an integer key, anything else text.
    public init(parsing text: String) {
        if let value = Int64(text) { self = .integer(value) } else { self = .text(text) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int64.self) { self = .integer(value) } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .integer(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        }
    }
}
