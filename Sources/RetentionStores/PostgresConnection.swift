import Foundation
import Logging
import PostgresNIO
import RetentionEngine
import RetentionRules
import Synchronization

/// A PostgreSQL store through postgres-nio. Queries carry every value as a bound parameter; the
/// session runs in UTC so that `timestamp` columns compare like `timestamptz` ones; each batch is
/// one transaction.
final class PostgresConnection: BatchWriter {
    let store: Store
    let connection: PostgresNIO.PostgresConnection
    let logger: Logger
    /// Table → its columns' types and what their text means.
    let tables: [String: PostgresColumns]
    /// Per dataset: where the last delete batch ended on its anchor (`keysAlong`).
    let bounds = Mutex<[String: (predicate: RecordPredicate, anchor: String)]>([:])

    private init(store: Store, connection: PostgresNIO.PostgresConnection, logger: Logger, tables: [String: PostgresColumns]) {
        self.store = store
        self.connection = connection
        self.logger = logger
        self.tables = tables
    }

    /// The credential that holds the password under `$CREDENTIALS_DIRECTORY` (`LoadCredential=`).
    static let credentialName = "postgres-password"

    /// Connects; every dataset's table must exist unless `inspecting` (lint reports a missing table
    /// at its line instead). No error says more of the DSN than ``PostgresDSN/description``, and
    /// none holds the password.
    static func open(store: Store, passwordFile: String?, inspecting: Bool = false) async throws -> PostgresConnection {
        let dsn: PostgresDSN
        do {
            dsn = try PostgresDSN.parse(store.dsn ?? "")
        } catch {
            // Lint reports these at the dsn's line; the DSN itself is never repeated.
            throw StoreError(store: store.id, message: "unusable dsn: \(error)")
        }
        var password: String?
        switch Credential.read(credentialName, path: passwordFile) {
        case .absent: break
        case .unreadable(let file): throw StoreError(store: store.id, message: "cannot read the password file \(file)")
        case .read(let data, _): password = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        }
        var logger = Logger(label: "retentiond.postgres")
        logger.logLevel = .critical
        let connection = try await connect(dsn, store: store, password: password, logger: logger)
        do {
            try await connection.query("SET TIME ZONE 'UTC'", logger: logger)
            var tables: [String: PostgresColumns] = [:]
            for dataset in store.datasets {
                guard let table = dataset.table else { continue }
                let (schema, name) = split(table)
                let rows = try await connection.query("""
                    SELECT column_name, data_type FROM information_schema.columns
                    WHERE table_name = \(name) AND table_schema = CASE WHEN \(schema) = '' THEN current_schema() ELSE \(schema) END
                    """, logger: logger)
                var columns: [String: String] = [:]
                for try await (column, type) in rows.decode((String, String).self) { columns[column] = type }
                if columns.isEmpty {
                    if inspecting { continue }
                    throw StoreError(store: store.id, message: "table \(table) does not exist")
                }
                tables[table] = PostgresColumns(types: columns)
            }
            return PostgresConnection(store: store, connection: connection, logger: logger, tables: tables)
        } catch {
            try? await connection.close()
            if let error = error as? StoreError { throw error }
            throw StoreError(store: store.id, message: redacted(describe(error, dsn: dsn), password: password))
        }
    }

    func columns(_ dataset: Dataset) -> PostgresColumns { tables[dataset.table ?? ""] ?? PostgresColumns(types: [:]) }

    func type(_ dataset: Dataset, _ column: String) -> String { columns(dataset).type(column) }

    func dialect(_ dataset: Dataset) -> SQLDialect {
        let table = columns(dataset)
        return SQLDialect(numberedPlaceholders: true, keyType: keyType(dataset)) { table.encoding($0) }
    }

    func table(_ dataset: Dataset) -> String { SQLIdentifier.quoted(dataset.table ?? "") }
    func key(_ dataset: Dataset) -> String { SQLIdentifier.quoted(dataset.key ?? "id") }

    static func bindings(_ binds: [StoreValue]) throws -> PostgresBindings {
        var bindings = PostgresBindings()
        for bind in binds {
            switch bind {
            case .null: bindings.appendNull()
            case .integer(let value): bindings.append(value)
            case .real(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            case .date(let value): bindings.append(value)
            }
        }
        return bindings
    }

    func query(_ sql: String, _ binds: [StoreValue]) async throws -> [[String?]] {
        do {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: try Self.bindings(binds)), logger: logger)
            // Collected in one go, then decoded: iterating the rows one `await` at a time costs
            // more than the rows themselves when a batch returns thousands of keys.
            return try await rows.collect().map { row in try row.map { cell in try cell.decode(String?.self) } }
        } catch let error as PSQLError {
            throw StoreError(store: store.id, message: "\(error.serverInfo?[.message] ?? String(reflecting: error)) (\(sql))")
        }
    }

    func recordKey(_ dataset: Dataset, _ text: String?) -> RecordKey {
        let text = text ?? ""
        if integerKeys(dataset), let value = Int64(text) { return .integer(value) }
        return .text(text)
    }

    /// A value as PostgreSQL prints it in a UTC session, read back into the engine's shapes.
    func value(_ dataset: Dataset, _ column: String, _ text: String?) -> StoreValue {
        columns(dataset).value(column, text)
    }

    /// Times come back native (`value`), numbers as numbers; a text anchor is bound and compared as
    /// text, as in SQLite (`SQLDialect`): SQLite's codec means these values as the queries do.
    var codec: any StoreCodec { SQLiteCodec() }

    var resumesByPredicate: Bool { true }
    /// A batch locks only its own rows, which are due: the application's writers of other rows
    /// never wait for it (unlike SQLite's one write lock), so batches may run longer and commit
    /// less often.
    var blocksWriters: Bool { false }

    func count(_ dataset: Dataset, where predicate: RecordPredicate) async throws -> Int {
        let filter = dialect(dataset).render(predicate)
        let rows = try await query("SELECT count(*)::text FROM \(table(dataset)) WHERE \(filter.sql)", filter.binds)
        return Int(rows.first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    func total(_ dataset: Dataset) async throws -> Int {
        let rows = try await query("SELECT count(*)::text FROM \(table(dataset))", [])
        return Int(rows.first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    func total(_ dataset: Dataset, upTo limit: Int) async throws -> Int {
        let rows = try await query("SELECT count(*)::text FROM (SELECT 1 FROM \(table(dataset)) LIMIT $1) AS enough", [.integer(Int64(limit))])
        return Int(rows.first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    func keys(_ dataset: Dataset, where predicate: RecordPredicate, from start: BatchStart, limit: Int) async throws -> [RecordKey] {
        var filter = dialect(dataset).render(predicate)
        var order = ""
        if case .after(let after) = start {
            if let after {
                filter.binds.append(SQLDialect.bind(after))
                filter.sql += " AND \(key(dataset)) > $\(filter.binds.count)"
            }
            // The output column is named apart from the key, or ORDER BY would sort the text by its name.
            order = " ORDER BY \(key(dataset))"
        }
        // `anywhere`: no ORDER BY, so that the planner walks the anchor's index range (resumesByPredicate).
        if case .anywhere = start, integerKeys(dataset), let anchor = Self.anchor(of: predicate) {
            return try await keysAlong(anchor, dataset, filter: filter, predicate: predicate, limit: limit)
        }
        let select = "SELECT \(key(dataset)) AS retentiond_key FROM \(table(dataset)) WHERE \(filter.sql)\(order) LIMIT \(limit)"
        if integerKeys(dataset) { return try await runs(from: "(\(select)) AS batch", filter.binds) }
        let rows = try await query("SELECT retentiond_key::text FROM (\(select)) AS batch", filter.binds)
        return rows.map { recordKey(dataset, $0[0]) }
    }

    /// The one anchor column of a predicate that is (or ANDs) `column < cutoff`: the index a
    /// delete job's batches walk.
    static func anchor(of predicate: RecordPredicate) -> String? {
        switch predicate {
        case .before(let columns, _): return columns.count == 1 ? columns[0] : nil
        case .and(let items):
            let anchors = items.compactMap { if case .before(let columns, _) = $0, columns.count == 1 { columns[0] } else { nil } }
            return anchors.count == 1 ? anchors[0] : nil
        default: return nil
        }
    }

    /// A delete job's next keys, in anchor order from where the last batch of the same job ended.
    ///
    /// PostgreSQL leaves deleted rows in the index until VACUUM: a batch that starts from the front
    /// of the anchor's index walks past every row the batches before it deleted, and a job of
    /// 500,000 rows spends most of its time there. Every row before the last batch's greatest
    /// anchor was in that batch or did not match, so the next one starts at that anchor (`>=`:
    /// rows sharing it may not all have fitted). The bound is kept per dataset for as long as the
    /// predicate stays the same (a new hold changes it, and the walk starts from the front again).
    func keysAlong(_ anchor: String, _ dataset: Dataset, filter: SQLFragment, predicate: RecordPredicate, limit: Int) async throws -> [RecordKey] {
        var filter = filter
        let column = SQLIdentifier.quoted(anchor)
        if let bound = bounds.withLock({ $0[dataset.id] }), bound.predicate == predicate {
            filter.binds.append(.text(bound.anchor))
            filter.sql += " AND \(column) >= CAST($\(filter.binds.count)::text AS \(type(dataset, anchor)))"
        }
        let batch = "SELECT \(key(dataset)) AS retentiond_key, \(column) AS retentiond_anchor FROM \(table(dataset)) WHERE \(filter.sql) ORDER BY \(column) LIMIT \(limit)"
        // Mostly the batch is one run of ids: then its first and last id, its size and its
        // greatest anchor, in one aggregate over the index walk, say it all; else the runs.
        let summary = try await query("""
            SELECT min(retentiond_key)::text, max(retentiond_key)::text, count(*)::text, max(retentiond_anchor)::text FROM (\(batch)) AS batch
            """, filter.binds)
        guard let row = summary.first, let countText = row[2], let count = Int64(countText), count > 0 else {
            bounds.withLock { _ = $0.removeValue(forKey: dataset.id) }
            return []
        }
        bounds.withLock { $0[dataset.id] = row[3].map { (predicate, $0) } }
        if let first = row[0].flatMap({ Int64($0) }), let last = row[1].flatMap({ Int64($0) }), last &- first &+ 1 == count {
            return (first...last).map(RecordKey.integer)
        }
        return try await runs(from: "(\(batch)) AS batch", filter.binds)
    }

    func integerKeys(_ dataset: Dataset) -> Bool { columns(dataset).isInteger(dataset.key ?? "id") }

    func keyType(_ dataset: Dataset) -> KeyType { integerKeys(dataset) ? .integer : .text }

    func lookUp(_ dataset: Dataset, typed text: String) async throws -> KeyLookup {
        let type = keyType(dataset)
        let typed = try RecordKey(typed: text, as: type)
        // Compared as text, the form the key column prints: a uuid or varchar key is found as typed.
        let rows = try await query("SELECT 1 FROM \(table(dataset)) WHERE \(key(dataset))\(type == .text ? "::text" : "") = $1 LIMIT 1",
                                   [SQLDialect.bind(typed)])
        return KeyLookup(key: typed, type: type, found: rows.isEmpty ? .nothing : .record)
    }

    /// The integer keys `source` holds (as `retentiond_key`), sent by the server as runs of
    /// consecutive keys (KeyRuns, computed as gaps and islands) and expanded here: a batch of
    /// 20,000 ids from an append-only table crosses the wire as one row, not 20,000. `with` puts a
    /// data-modifying statement at the top level, where PostgreSQL requires it.
    func runs(from source: String, with prefix: String = "", _ binds: [StoreValue]) async throws -> [RecordKey] {
        let rows = try await query("""
            \(prefix) SELECT min(retentiond_key)::text, max(retentiond_key)::text
            FROM (SELECT retentiond_key, retentiond_key - row_number() OVER (ORDER BY retentiond_key) AS island FROM \(source)) AS numbered
            GROUP BY island ORDER BY 1
            """, binds)
        var keys: [RecordKey] = []
        for row in rows {
            guard let first = row[0].flatMap({ Int64($0) }), let last = row[1].flatMap({ Int64($0) }), first <= last else {
                throw StoreError(store: store.id, message: "the server sent a key run that is not two integers: \(row)")
            }
            keys.append(contentsOf: (first...last).map(RecordKey.integer))
        }
        return keys
    }

    func matching(_ dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey] {
        guard !keys.isEmpty else { return [] }
        let list = dialect(dataset).membership(keys, column: key(dataset))
        let filter = dialect(dataset).render(predicate, placeholderBase: list.binds.count)
        let rows = try await query("SELECT \(key(dataset))::text AS retentiond_key FROM \(table(dataset)) WHERE \(list.sql) AND \(filter.sql) ORDER BY \(key(dataset))",
                                   list.binds + filter.binds)
        return rows.map { recordKey(dataset, $0[0]) }
    }

    func record(_ dataset: Dataset, key recordKey: RecordKey) async throws -> [String: StoreValue]? {
        let columns = Array(Set(dataset.fields.values).union(dataset.anonymize.keys)
            .union([dataset.restrictColumn, dataset.anonymizedColumn].compactMap { $0 })).sorted()
        let list = columns.map { ", " + SQLIdentifier.quoted($0) + "::text" }.joined()
        let rows = try await query("SELECT \(key(dataset))::text\(list) FROM \(table(dataset)) WHERE \(key(dataset)) = $1", [SQLDialect.bind(recordKey)])
        guard let row = rows.first else { return nil }
        var record: [String: StoreValue] = [:]
        for (index, column) in columns.enumerated() { record[column] = value(dataset, column, row[index + 1]) }
        return record
    }

    func earliest(_ dataset: Dataset, column: String, where predicate: RecordPredicate) async throws -> Date? {
        let filter = dialect(dataset).render(predicate)
        let rows = try await query("SELECT min(\(SQLIdentifier.quoted(column)))::text FROM \(table(dataset)) WHERE \(filter.sql)", filter.binds)
        return codec.instant(value(dataset, column, rows.first?.first ?? nil))
    }

    func close() async {
        try? await connection.close()
    }
}
