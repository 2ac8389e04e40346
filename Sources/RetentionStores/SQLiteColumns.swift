import Foundation
import GRDB
import RetentionEngine

/// How one SQLite table stores its times, column by column, from the types its columns declare:
/// the store's codec of its columns. A column of numeric type (INTEGER, REAL, FLOAT, DOUBLE)
/// holds Unix seconds; any other holds SQLite's UTC text (`SQLiteTimeText`).
struct SQLiteColumns: Sendable {
    let encodings: [String: SQLDialect.TimeEncoding]

    /// From each column's name and declared type, as the table's schema lists them.
    init(_ columns: [(name: String, type: String)]) {
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
