import GRDB
import RetentionRules

extension SQLiteConnection: SchemaReading {
    func tables() async throws -> [String] {
        try run {
            try queue.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name")
            }
        }
    }

    func schema(_ table: String) async throws -> TableSchema? {
        try run {
            try queue.read { db in
                let isTable = try db.tableExists(table)
                guard try isTable || db.viewExists(table) else { return nil }
                let columns = try Self.columns(table, in: db)
                var indexes = try db.indexes(on: table).map { TableSchema.Index(name: $0.name, columns: $0.columns, unique: $0.isUnique) }
                // GRDB leaves the primary key out of the indexes; a view has none.
                let primaryKey = isTable ? try db.primaryKey(table) : nil
                if let primaryKey, primaryKey.rowIDColumn == nil {
                    indexes.append(TableSchema.Index(name: "primary key", columns: primaryKey.columns, unique: true))
                }
                let triggers = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? ORDER BY name",
                                                   arguments: [table])
                return TableSchema(columns: columns, indexes: indexes, rowIDColumn: primaryKey?.rowIDColumn, triggers: triggers)
            }
        }
    }

    /// The table's columns with their declared types, as both the connection (`SQLiteColumns`) and
    /// `lint --live` read them.
    static func columns(_ table: String, in db: Database) throws -> [TableSchema.Column] {
        try db.columns(in: table).map {
            TableSchema.Column(name: $0.name, type: $0.type, valueClass: TableSchema.sqliteClass($0.type), nullable: !$0.isNotNull)
        }
    }

    func createIndexStatement(table: String, column: String) -> String {
        let name = (table.split(separator: ".").last.map(String.init) ?? table) + "_" + column + "_idx"
        return "CREATE INDEX \(SQLIdentifier.quoted(name)) ON \(SQLIdentifier.quoted(table)) (\(SQLIdentifier.quoted(column)));"
    }
}
