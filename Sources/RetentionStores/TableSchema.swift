/// What a SQL store says about one table: its columns, their types, and its indexes. Read by
/// `retentionctl lint --live` to check a stores file against the real database.
struct TableSchema: Sendable {
    /// The kind of value a column holds, as far as retentiond cares.
    enum ValueClass: Sendable, Hashable {
        /// timestamp, timestamptz, date; SQLite DATETIME/DATE/TIMESTAMP.
        case time
        case integer
        case real
        /// Text, with the longest length the column takes, if limited (varchar(n)).
        case text(maxLength: Int?)
        /// PostgreSQL inet or cidr.
        case ipAddress
        case boolean
        case uuid
        case binary
        /// SQLite's untyped column: it takes anything.
        case untyped
        /// Anything else, by the store's own name for it.
        case other
    }

    struct Column: Sendable {
        var name: String
        /// The store's own spelling of the type, for messages.
        var type: String
        var valueClass: ValueClass
        var nullable: Bool
    }

    struct Index: Sendable {
        var name: String
        var columns: [String]
        var unique: Bool
    }

    var columns: [Column]
    var indexes: [Index]
    /// A column that is the table's own row order (SQLite `INTEGER PRIMARY KEY`): indexed and unique
    /// without an index of its own.
    var rowIDColumn: String?
    /// The table's triggers, by name: they run on retentiond's UPDATEs too.
    var triggers: [String] = []

    func column(_ name: String) -> Column? { columns.first { $0.name == name } }

    /// Whether an index (or the row id) can serve a range query on `column`: it must lead.
    func isIndexed(_ column: String) -> Bool {
        column == rowIDColumn || indexes.contains { $0.columns.first == column }
    }

    /// Whether `column` alone is unique, as keyset paging needs of a key.
    func isUnique(_ column: String) -> Bool {
        column == rowIDColumn || indexes.contains { $0.unique && $0.columns == [column] }
    }

    /// SQLite's type affinity rules (https://sqlite.org/datatype3.html §3.1), with the date-like
    /// names of NUMERIC affinity read as times, as applications use them.
    static func sqliteClass(_ declared: String) -> ValueClass {
        let type = declared.uppercased()
        if type.isEmpty { return .untyped }
        if type.contains("INT") { return .integer }
        if type.contains("CHAR") || type.contains("CLOB") || type.contains("TEXT") { return .text(maxLength: nil) }
        if type.contains("BLOB") { return .binary }
        if type.contains("REAL") || type.contains("FLOA") || type.contains("DOUB") { return .real }
        if type.contains("DATE") || type.contains("TIME") { return .time }
        if type.contains("BOOL") { return .boolean }
        return .real
    }

    /// PostgreSQL's `information_schema.columns.data_type`.
    static func postgresClass(_ dataType: String, maxLength: Int?) -> ValueClass {
        switch dataType {
        case _ where dataType.hasPrefix("timestamp"), "date": .time
        case "integer", "bigint", "smallint": .integer
        case "numeric", "real", "double precision": .real
        case "text", "character varying", "character", "name", "citext": .text(maxLength: maxLength)
        case "inet", "cidr": .ipAddress
        case "boolean": .boolean
        case "uuid": .uuid
        case "bytea": .binary
        default: .other
        }
    }
}
