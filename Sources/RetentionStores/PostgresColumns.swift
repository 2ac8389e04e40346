import RetentionEngine
import RetentionRules

/// The columns of one PostgreSQL table by their `information_schema` data type, and what the
/// text PostgreSQL prints for them in a UTC session means: the store's codec of its columns, in
/// the classes `lint --live` reads the same types into (`TableSchema.postgresClass`).
struct PostgresColumns: Sendable {
    /// Column → data type (information_schema's `data_type`).
    let types: [String: String]

    /// The column's data type; `text` for a column not read.
    func type(_ column: String) -> String { types[column] ?? "text" }

    /// The kind of value the column holds.
    func valueClass(_ column: String) -> TableSchema.ValueClass {
        TableSchema.postgresClass(type(column), maxLength: nil)
    }

    func isInteger(_ column: String) -> Bool { valueClass(column) == .integer }

    /// How a cutoff compared with the column is bound: a native timestamp, Unix seconds for a
    /// number, text otherwise.
    func encoding(_ column: String) -> SQLDialect.TimeEncoding {
        switch valueClass(column) {
        case .time: .native
        case .integer, .real: .unixSeconds
        default: .text
        }
    }

    /// A value as PostgreSQL prints it in a UTC session (`2026-05-10 13:00:00.25+00`), read back
    /// into the engine's shapes.
    func value(_ column: String, _ text: String?) -> StoreValue {
        guard let text else { return .null }
        let kind = valueClass(column)
        switch kind {
        case .time:
            var trimmed = text
            if trimmed.hasSuffix("+00") { trimmed.removeLast(3) }
            return InstantText.parseCivil(trimmed).map(StoreValue.date) ?? .text(text)
        case .integer, .real:
            if kind == .integer, let value = Int64(text) { return .integer(value) }
            if let value = Double(text) { return .real(value) }
            return .text(text)
        default:
            return .text(text)
        }
    }
}
