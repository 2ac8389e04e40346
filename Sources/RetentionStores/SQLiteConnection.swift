import Foundation
import GRDB
import RetentionEngine
import RetentionRules
import Synchronization

/// A SQLite store through GRDB: every query runs in SQLite on its indexes, each batch is one
/// short write transaction (so other writers wait at most one batch).
final class SQLiteConnection: BatchWriter {
    let store: Store
    let queue: DatabaseQueue
    /// Table → how its columns store times.
    let tables: [String: SQLiteColumns]
    /// Dataset → the type of its key column, by SQLite's affinity rules: INTEGER affinity (and
    /// the rowid) holds integers; any other column compares a bound text as text would be stored.
    let keyTypes: [String: KeyType]
    let lastCheckpoint = Mutex(ContinuousClock.now)
    /// Whether this connection changed anything: only then does it checkpoint (lint and plan
    /// leave the file as they found it).
    let wrote = Mutex(false)

    /// Opens the file; every dataset's table must exist unless `inspecting` (lint reports a missing
    /// table at its line instead).
    init(store: Store, path: String, inspecting: Bool = false) throws {
        self.store = store
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(store: store.id, message: "the SQLite file \(path) does not exist")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // In WAL mode SQLite checkpoints inside the commit that crosses 1000 pages of log, with the
        // write lock held: a batch then holds it many times longer than its own work. This
        // connection never checkpoints in a commit; it checkpoints between batches instead
        // (`checkpoint()`, passive: other writers do not wait for it).
        // trusted_schema = OFF: the application's triggers and views may not call the functions
        // this connection registers (the anonymization strategies, with the HMAC key): a trigger
        // computing pseudonyms of a dictionary would be an oracle that re-identifies every one.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0; PRAGMA trusted_schema = OFF") }
        // A batch on a shared state stays open across the claim's renewal, which awaits the state
        // server (`apply(…beforeCommit:)`); GRDB's closures cannot await, so that transaction spans
        // three of them. Every other access still runs in a closed transaction of its own.
        configuration.allowsUnsafeTransactions = true
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            var tables: [String: SQLiteColumns] = [:]
            var keyTypes: [String: KeyType] = [:]
            try queue.read { db in
                for dataset in store.datasets {
                    guard let table = dataset.table else { continue }
                    if inspecting, try !db.tableExists(table), try !db.viewExists(table) { continue }
                    let columns = try Self.columns(table, in: db)
                    let keyColumn = columns.first { $0.name == dataset.key }
                    keyTypes[dataset.id] = dataset.key == nil || keyColumn?.type.uppercased().contains("INT") == true ? .integer : .text
                    tables[table] = SQLiteColumns(columns)
                }
            }
            self.tables = tables
            self.keyTypes = keyTypes
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(store: store.id, message: "\(path): \(error)")
        }
    }

    var codec: any StoreCodec { SQLiteCodec() }

    var resumesByPredicate: Bool { true }
    var blocksWriters: Bool { true }

    func dialect(_ dataset: Dataset) -> SQLDialect {
        let table = columns(dataset)
        return SQLDialect(numberedPlaceholders: false, keyType: keyType(dataset)) { table.encoding($0) }
    }

    func columns(_ dataset: Dataset) -> SQLiteColumns { tables[dataset.table ?? ""] ?? SQLiteColumns([]) }

    func keyType(_ dataset: Dataset) -> KeyType { keyTypes[dataset.id] ?? .text }

    func lookUp(_ dataset: Dataset, typed text: String) async throws -> KeyLookup {
        let type = keyType(dataset)
        let key = try RecordKey(typed: text, as: type)
        return KeyLookup(key: key, type: type, found: try await record(dataset, key: key) == nil ? .nothing : .record)
    }

    func table(_ dataset: Dataset) -> String { SQLIdentifier.quoted(dataset.table ?? "") }
    func key(_ dataset: Dataset) -> String { SQLIdentifier.quoted(dataset.key ?? "rowid") }

    static func arguments(_ binds: [StoreValue]) -> StatementArguments {
        StatementArguments(binds.map(databaseValue))
    }

    static func key(_ value: DatabaseValue) -> RecordKey {
        switch value.storage {
        case .int64(let v): .integer(v)
        case .double(let v): .text(String(v))
        case .string(let v): .text(v)
        case .blob(let v): .text(v.base64EncodedString())
        case .null: .text("")
        }
    }

    static func value(_ value: DatabaseValue) -> StoreValue {
        switch value.storage {
        case .null: .null
        case .int64(let v): .integer(v)
        case .double(let v): .real(v)
        case .string(let v): .text(v)
        case .blob(let v): .text(v.base64EncodedString())
        }
    }

    func run<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DatabaseError {
            throw StoreError(store: store.id, message: "\(error.message ?? "\(error)") (\(error.sql ?? ""))")
        }
    }

    func count(_ dataset: Dataset, where predicate: RecordPredicate) async throws -> Int {
        try await counts(dataset, where: [predicate])[0]
    }

    func counts(_ dataset: Dataset, where predicates: [RecordPredicate]) async throws -> [Int] {
        let dialect = dialect(dataset)
        return try run {
            try queue.read { db in
                try predicates.map { predicate in
                    let filter = dialect.render(predicate)
                    // Cached: the stages of one dataset differ in their cutoffs, bound, not in the SQL.
                    let statement = try db.cachedStatement(sql: "SELECT count(*) FROM \(table(dataset)) WHERE \(filter.sql)")
                    return try Int.fetchOne(statement, arguments: Self.arguments(filter.binds)) ?? 0
                }
            }
        }
    }

    func earliest(_ dataset: Dataset, of queries: [EarliestQuery]) async throws -> [Date?] {
        let dialect = dialect(dataset)
        return try run {
            try queue.read { db in
                try queries.map { query in
                    let filter = dialect.render(query.predicate)
                    let column = SQLIdentifier.quoted(query.column)
                    let statement = try db.cachedStatement(sql: "SELECT min(\(column)) FROM \(table(dataset)) WHERE \(filter.sql) AND \(column) IS NOT NULL")
                    return codec.instant(Self.value(try DatabaseValue.fetchOne(statement, arguments: Self.arguments(filter.binds)) ?? .null))
                }
            }
        }
    }

    func total(_ dataset: Dataset) async throws -> Int {
        try run { try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table(dataset))") ?? 0 } }
    }

    func total(_ dataset: Dataset, upTo limit: Int) async throws -> Int {
        try run {
            try queue.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM (SELECT 1 FROM \(table(dataset)) LIMIT ?)", arguments: [limit]) ?? 0
            }
        }
    }

    func keys(_ dataset: Dataset, where predicate: RecordPredicate, from start: BatchStart, limit: Int) async throws -> [RecordKey] {
        // Between batches, outside the write transaction the engine times.
        checkpoint()
        var filter = dialect(dataset).render(predicate)
        var order = ""
        if case .after(let after) = start {
            if let after {
                filter.sql += " AND \(key(dataset)) > ?"
                filter.binds.append(SQLDialect.bind(after))
            }
            order = " ORDER BY \(key(dataset))"
        }
        // `anywhere`: no ORDER BY, so that SQLite walks the anchor's index range instead of the
        // whole table in key order (resumesByPredicate).
        let sql = "SELECT \(key(dataset)) AS retentiond_key FROM \(table(dataset)) WHERE \(filter.sql)\(order) LIMIT \(limit)"
        let arguments = Self.arguments(filter.binds)
        return try run {
            try queue.read { db in
                if keyType(dataset) == .integer, let run = try Self.run(of: sql, arguments, in: db) { return run }
                return try DatabaseValue.fetchAll(db, sql: sql, arguments: arguments).map(Self.key)
            }
        }
    }

    /// The keys `sql` selects when they are one run of consecutive integers, as a delete batch
    /// along the anchor's index of an append-only table mostly is: told by their least, greatest
    /// and count, so that none crosses from SQLite one by one. Nil when they are not. (`sql` names
    /// the key `retentiond_key`.)
    static func run(of sql: String, _ arguments: StatementArguments, in db: Database) throws -> [RecordKey]? {
        // Not cached: the SQL holds the batch's LIMIT, which changes from batch to batch.
        let statement = try db.makeStatement(sql: "SELECT min(retentiond_key), max(retentiond_key), count(*), "
                                                + "count(retentiond_key) = count(*) AND min(typeof(retentiond_key)) = 'integer' "
                                                + "AND max(typeof(retentiond_key)) = 'integer' FROM (\(sql)) AS batch")
        guard let row = try Row.fetchOne(statement, arguments: arguments), let count: Int64 = row[2], count > 0,
              let integers: Bool = row[3], integers, let first: Int64 = row[0], let last: Int64 = row[1],
              last >= first, last &- first &+ 1 == count else { return nil }
        return (first...last).map(RecordKey.integer)
    }

    func matching(_ dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey] {
        guard !keys.isEmpty else { return [] }
        let list = dialect(dataset).membership(keys, column: key(dataset))
        let filter = dialect(dataset).render(predicate)
        let sql = "SELECT \(key(dataset)) FROM \(table(dataset)) WHERE \(list.sql) AND \(filter.sql) ORDER BY \(key(dataset))"
        return try run {
            try queue.read { db in
                try DatabaseValue.fetchAll(db, sql: sql, arguments: Self.arguments(list.binds + filter.binds)).map(Self.key)
            }
        }
    }

    func apply(_ change: Change, to dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey] {
        try batch(change, to: dataset, keys: keys, where: predicate, leavingOpen: false)
    }

    /// The batch's statements in a write transaction, committed, or left open for the caller to
    /// end (`apply(…beforeCommit:)`).
    func batch(_ change: Change, to dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate, leavingOpen: Bool) throws -> [RecordKey] {
        guard !keys.isEmpty else { return [] }
        let dialect = dialect(dataset)
        let list = dialect.membership(keys, column: key(dataset))
        let filter = dialect.render(predicate)
        let scope = "\(list.sql) AND \(filter.sql)"
        let arguments = Self.arguments(list.binds + filter.binds)
        let stamp = columns(dataset).stamp
        wrote.withLock { $0 = true }
        return try run {
            try writeTransaction(leavingOpen: leavingOpen) { db in
                switch change {
                case .delete:
                    // The statement deletes only listed keys, each at most once: when it deleted as
                    // many rows as keys were listed, it deleted exactly them, and RETURNING (an
                    // ephemeral table of every key, read back row by row) is not needed. Otherwise
                    // (some were changed since they were selected) it is undone and run again,
                    // returning what it deleted.
                    var deletedAll = false
                    try db.inSavepoint {
                        try db.execute(sql: "DELETE FROM \(table(dataset)) WHERE \(scope)", arguments: arguments)
                        deletedAll = db.changesCount == keys.count
                        return deletedAll ? .commit : .rollback
                    }
                    if deletedAll { return keys }
                    return try DatabaseValue.fetchAll(db, sql: "DELETE FROM \(table(dataset)) WHERE \(scope) RETURNING \(key(dataset))",
                                                      arguments: arguments).map(Self.key)
                case .restrict(let column, let at):
                    return try DatabaseValue.fetchAll(db, sql: "UPDATE \(table(dataset)) SET \(SQLIdentifier.quoted(column)) = ? WHERE \(scope) RETURNING \(key(dataset))",
                                                      arguments: [stamp(column, at)] + arguments).map(Self.key)
                case .anonymize(let strategies, let marker, let at, let hmacKey):
                    // One UPDATE per batch, as an administrator would write it, with each strategy
                    // a SQL function of this connection (the Anonymizer, in Swift): no row goes
                    // through a statement of its own.
                    let columns = strategies.keys.sorted()
                    var functions: [DatabaseFunction] = []
                    var assignments: [String] = []
                    for (index, column) in columns.enumerated() {
                        let strategy = strategies[column]!
                        let function = DatabaseFunction("retentiond_anonymize_\(index)", argumentCount: 1, pure: true) { values in
                            Self.databaseValue(try Anonymizer.apply(strategy, to: Self.value(values[0]), key: hmacKey))
                        }
                        db.add(function: function)
                        functions.append(function)
                        assignments.append("\(SQLIdentifier.quoted(column)) = \(function.name)(\(SQLIdentifier.quoted(column)))")
                    }
                    defer { for function in functions { db.remove(function: function) } }
                    var values: [(any DatabaseValueConvertible)?] = []
                    if let marker {
                        assignments.append("\(SQLIdentifier.quoted(marker)) = ?")
                        values.append(stamp(marker, at))
                    }
                    var all = StatementArguments(values)
                    all += arguments
                    return try DatabaseValue.fetchAll(db, sql: "UPDATE \(table(dataset)) SET \(assignments.joined(separator: ", ")) WHERE \(scope) RETURNING \(key(dataset))",
                                                      arguments: all).map(Self.key)
                }
            }
        }
    }

    /// Copies the write-ahead log back into the database, outside any transaction, at most every
    /// `checkpointInterval` (each checkpoint ends with an fsync of the database file). Passive: it
    /// copies what no reader still needs and never waits. Nothing to do outside WAL mode.
    func checkpoint(force: Bool = false) {
        guard wrote.withLock({ $0 }) else { return }
        let due = lastCheckpoint.withLock { last in
            guard force || last.duration(to: .now) >= Self.checkpointInterval else { return false }
            last = .now
            return true
        }
        guard due else { return }
        try? queue.writeWithoutTransaction { db in _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)") }
    }

    static let checkpointInterval = Duration.milliseconds(200)

    /// A value as SQLite stores it: a date as its UTC text (`SQLiteTimeText`).
    static func databaseValue(_ value: StoreValue) -> (any DatabaseValueConvertible)? {
        switch value {
        case .null: nil
        case .integer(let v): v
        case .real(let v): v
        case .text(let v): v
        case .date(let v): SQLiteTimeText.text(v)
        }
    }

    static func databaseValue(_ key: RecordKey) -> any DatabaseValueConvertible {
        switch key {
        case .integer(let v): v
        case .text(let v): v
        }
    }

    func record(_ dataset: Dataset, key recordKey: RecordKey) async throws -> [String: StoreValue]? {
        let columns = Array(Set(dataset.fields.values).union(dataset.anonymize.keys)
            .union([dataset.restrictColumn, dataset.anonymizedColumn].compactMap { $0 })).sorted()
        let list = columns.isEmpty ? "" : ", " + columns.map(SQLIdentifier.quoted).joined(separator: ", ")
        let sql = "SELECT \(key(dataset))\(list) FROM \(table(dataset)) WHERE \(key(dataset)) = ?"
        return try run {
            try queue.read { db in
                guard let row = try Row.fetchOne(db, sql: sql, arguments: [Self.databaseValue(recordKey)]) else { return nil }
                var record: [String: StoreValue] = [:]
                for (index, column) in columns.enumerated() { record[column] = Self.value(row[index + 1]) }
                return record
            }
        }
    }

    func earliest(_ dataset: Dataset, column: String, where predicate: RecordPredicate) async throws -> Date? {
        try await earliest(dataset, of: [EarliestQuery(column: column, predicate: predicate)])[0]
    }

    func close() async {
        checkpoint(force: true)
        try? queue.close()
    }
}
