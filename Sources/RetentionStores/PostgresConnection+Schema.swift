import RetentionEngine
import RetentionRules

extension PostgresConnection: SchemaReading {
    static func split(_ table: String) -> (schema: String, name: String) {
        let parts = table.split(separator: ".").map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : ("", parts[0])
    }

    func tables() async throws -> [String] {
        try await query("""
            SELECT table_name::text FROM information_schema.tables
            WHERE table_schema = current_schema() ORDER BY table_name
            """, []).compactMap { $0[0] }
    }

    func schema(_ table: String) async throws -> TableSchema? {
        let (schema, name) = Self.split(table)
        let columns = try await query("""
            SELECT column_name::text, data_type::text, is_nullable::text, character_maximum_length::text
            FROM information_schema.columns
            WHERE table_name = $1 AND table_schema = CASE WHEN $2 = '' THEN current_schema() ELSE $2 END
            ORDER BY ordinal_position
            """, [.text(name), .text(schema)])
        guard !columns.isEmpty else { return nil }
        // Each index with its columns in order; expression columns (attnum 0) drop out, and a
        // partial index cannot serve every range query, so it does not count.
        let indexes = try await query("""
            SELECT ic.relname::text, ix.indisunique::text,
                   array_to_string(ARRAY(
                       SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                       JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                       ORDER BY k.n), ',')
            FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid
            WHERE ix.indrelid = to_regclass($1) AND ix.indpred IS NULL
            """, [.text(SQLIdentifier.quoted(table))])
        let triggers = try await query("""
            SELECT tgname::text FROM pg_trigger WHERE tgrelid = to_regclass($1) AND NOT tgisinternal ORDER BY tgname
            """, [.text(SQLIdentifier.quoted(table))])
        return TableSchema(
            columns: columns.map { row in
                TableSchema.Column(name: row[0] ?? "", type: row[1] ?? "",
                                   valueClass: TableSchema.postgresClass(row[1] ?? "", maxLength: row[3].flatMap { Int($0) }),
                                   nullable: row[2] == "YES")
            },
            indexes: indexes.map { row in
                TableSchema.Index(name: row[0] ?? "", columns: (row[2] ?? "").split(separator: ",").map(String.init), unique: row[1] == "true")
            },
            rowIDColumn: nil,
            triggers: triggers.compactMap { $0[0] })
    }

    func createIndexStatement(table: String, column: String) -> String {
        let name = Self.split(table).name + "_" + column + "_idx"
        // CONCURRENTLY: building the index must not block the application's writes.
        return "CREATE INDEX CONCURRENTLY \(SQLIdentifier.quoted(name)) ON \(SQLIdentifier.quoted(table)) (\(SQLIdentifier.quoted(column)));"
    }
}
