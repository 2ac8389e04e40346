import Foundation

/// How every `--format json` is written: one encoder, so that key names (snake_case, from the
/// views' Swift names), key order (sorted) and layout agree across commands and stay stable for
/// the programs that read them (docs/schedule-json.md).
enum JSONOutput {
    /// `value` as JSON text.
    static func text(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Prints `value` as JSON on stdout.
    static func print(_ value: some Encodable) throws {
        Swift.print(try text(value))
    }
}
