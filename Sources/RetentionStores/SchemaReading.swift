import RetentionEngine

/// A SQL store that can describe its tables, so a stores file can be checked against it.
protocol SchemaReading: StoreConnection {
    /// The tables and views of the default schema, for "did you mean" hints.
    func tables() async throws -> [String]
    /// The table's columns and indexes, or nil if there is no such table.
    func schema(_ table: String) async throws -> TableSchema?
    /// The statement an operator runs to index `column` for range queries.
    func createIndexStatement(table: String, column: String) -> String
}
