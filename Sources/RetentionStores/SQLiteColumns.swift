import Foundation
import GRDB
import RetentionEngine

/// How one SQLite table stores its times, column by column, from the types its columns declare:
/// the store's codec of its columns. A column of numeric type (INTEGER, REAL, FLOAT, DOUBLE)
/// holds Unix seconds; any other holds SQLite's UTC text (`SQLiteTimeText`).
struct SQLiteColumns: Sendable {
    let encodings: [String: SQLDialect.TimeEncoding]

    /// From the table's columns as its schema lists them (`SQLiteConnection.columns`). By the
    /// declared type's text, not `TableSchema.ValueClass`: a NUMERIC-affinity column (`DATETIME`,
    /// `DECIMAL`) holds whatever the application wrote there, mostly text.
    init(_ columns: [TableSchema.Column]) {
        encodings = Dictionary(columns.map { column in
            let type = column.type.uppercased()
            let numeric = type.contains("INT") || type.contains("REAL") || type.contains("FLOA") || type.contains("DOUB")
            return (column.name, numeric ? SQLDialect.TimeEncoding.unixSeconds : .text)
        }, uniquingKeysWith: { first, _ in first })
    }

    /// How `column` stores its times; text unless known otherwise.
    func encoding(_ column: String) -> SQLDialect.TimeEncoding { encodings[column] ?? .text }

    /// `date` written into `column` the way the column stores times (a restrict or anonymize marker).
    func stamp(_ column: String, _ date: Date) -> any DatabaseValueConvertible {
        encodings[column] == .unixSeconds ? Int64(date.timeIntervalSince1970) : SQLiteTimeText.text(date)
    }
}
