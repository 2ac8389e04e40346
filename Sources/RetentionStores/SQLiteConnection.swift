import Foundation
import GRDB
import RetentionEngine
import RetentionRules

/// A SQLite store through GRDB: every query runs in SQLite on its indexes, each batch is one
/// short write transaction (so other writers wait at most one batch).
final class SQLiteConnection: StoreConnection {
    let store: Store
    let queue: DatabaseQueue
    /// Column → how its timestamps are stored, per table.
    let encodings: [String: [String: SQLDialect.TimeEncoding]]

    /// Opens the file; every dataset's table must exist unless `inspecting` (lint reports a missing
    /// table at its line instead).
    init(store: Store, path: String, inspecting: Bool = false) throws {
        self.store = store
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(store: store.id, message: "the SQLite file \(path) does not exist")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            var encodings: [String: [String: SQLDialect.TimeEncoding]] = [:]
            try queue.read { db in
                for dataset in store.datasets {
                    guard let table = dataset.table else { continue }
                    if inspecting, try !db.tableExists(table), try !db.viewExists(table) { continue }
                    let columns = try db.columns(in: table)
                    encodings[table] = Dictionary(columns.map { column in
                        let type = column.type.uppercased()
                        let numeric = type.contains("INT") || type.contains("REAL") || type.contains("FLOA") || type.contains("DOUB")
                        return (column.name, numeric ? SQLDialect.TimeEncoding.unixSeconds : .text)
                    }, uniquingKeysWith: { first, _ in first })
                }
            }
            self.encodings = encodings
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(store: store.id, message: "\(path): \(error)")
        }
    }

    func dialect(_ dataset: Dataset) -> SQLDialect {
        let columns = encodings[dataset.table ?? ""] ?? [:]
        return SQLDialect(numberedPlaceholders: false) { columns[$0] ?? .text }
    }

    func table(_ dataset: Dataset) -> String { SQLIdentifier.quoted(dataset.table ?? "") }
    func key(_ dataset: Dataset) -> String { SQLIdentifier.quoted(dataset.key ?? "rowid") }

    static func arguments(_ binds: [SQLFragment.Bind]) -> StatementArguments {
        StatementArguments(binds.map { bind -> (any DatabaseValueConvertible)? in
            switch bind {
            case .null: nil
            case .integer(let value): value
            case .real(let value): value
            case .text(let value): value
            case .date(let value): TimeText.sqlite(value)
            }
        })
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
        let filter = dialect(dataset).render(predicate)
        return try run {
            try queue.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table(dataset)) WHERE \(filter.sql)", arguments: Self.arguments(filter.binds)) ?? 0
            }
        }
    }

    func total(_ dataset: Dataset) async throws -> Int {
        try run { try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table(dataset))") ?? 0 } }
    }

    func keys(_ dataset: Dataset, where predicate: RecordPredicate, after: RecordKey?, limit: Int) async throws -> [RecordKey] {
        var filter = dialect(dataset).render(predicate)
        if let after {
            filter.sql += " AND \(key(dataset)) > ?"
            filter.binds.append(SQLDialect.bind(after))
        }
        let sql = "SELECT \(key(dataset)) FROM \(table(dataset)) WHERE \(filter.sql) ORDER BY \(key(dataset)) LIMIT \(limit)"
        return try run {
            try queue.read { db in
                try DatabaseValue.fetchAll(db, sql: sql, arguments: Self.arguments(filter.binds)).map(Self.key)
            }
        }
    }

    func matching(_ dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey] {
        guard !keys.isEmpty else { return [] }
        let list = dialect(dataset).list(keys)
        let filter = dialect(dataset).render(predicate)
        let sql = "SELECT \(key(dataset)) FROM \(table(dataset)) WHERE \(key(dataset)) IN (\(list.sql)) AND \(filter.sql) ORDER BY \(key(dataset))"
        return try run {
            try queue.read { db in
                try DatabaseValue.fetchAll(db, sql: sql, arguments: Self.arguments(list.binds + filter.binds)).map(Self.key)
            }
        }
    }

    func apply(_ change: Change, to dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey] {
        guard !keys.isEmpty else { return [] }
        let dialect = dialect(dataset)
        let list = dialect.list(keys)
        let filter = dialect.render(predicate)
        let scope = "\(key(dataset)) IN (\(list.sql)) AND \(filter.sql)"
        let arguments = Self.arguments(list.binds + filter.binds)
        let encodings = self.encodings[dataset.table ?? ""] ?? [:]
        func stamp(_ column: String, _ date: Date) -> any DatabaseValueConvertible {
            encodings[column] == .unixSeconds ? Int64(date.timeIntervalSince1970) : TimeText.sqlite(date)
        }
        return try run {
            try queue.write { db in
                switch change {
                case .delete:
                    return try DatabaseValue.fetchAll(db, sql: "DELETE FROM \(table(dataset)) WHERE \(scope) RETURNING \(key(dataset))",
                                                      arguments: arguments).map(Self.key)
                case .restrict(let column, let at):
                    return try DatabaseValue.fetchAll(db, sql: "UPDATE \(table(dataset)) SET \(SQLIdentifier.quoted(column)) = ? WHERE \(scope) RETURNING \(key(dataset))",
                                                      arguments: [stamp(column, at)] + arguments).map(Self.key)
                case .anonymize(let strategies, let marker, let at, let hmacKey):
                    let columns = strategies.keys.sorted()
                    let select = "SELECT \(key(dataset)), " + columns.map(SQLIdentifier.quoted).joined(separator: ", ")
                        + " FROM \(table(dataset)) WHERE \(scope)"
                    var assignments = columns.map { "\(SQLIdentifier.quoted($0)) = ?" }
                    if let marker { assignments.append("\(SQLIdentifier.quoted(marker)) = ?") }
                    let update = try db.makeStatement(sql: "UPDATE \(table(dataset)) SET \(assignments.joined(separator: ", ")) WHERE \(key(dataset)) = ?")
                    var changed: [RecordKey] = []
                    for row in try Row.fetchAll(db, sql: select, arguments: arguments) {
                        var values: [(any DatabaseValueConvertible)?] = []
                        for (index, column) in columns.enumerated() {
                            let old = Self.value(row[index + 1])
                            let new = try Anonymizer.apply(strategies[column]!, to: old, key: hmacKey)
                            values.append(Self.databaseValue(new))
                        }
                        if let marker { values.append(stamp(marker, at)) }
                        let key = Self.key(row[0])
                        values.append(Self.databaseValue(key))
                        try update.execute(arguments: StatementArguments(values))
                        changed.append(key)
                    }
                    return changed
                }
            }
        }
    }

    static func databaseValue(_ value: StoreValue) -> (any DatabaseValueConvertible)? {
        switch value {
        case .null: nil
        case .integer(let v): v
        case .real(let v): v
        case .text(let v): v
        case .date(let v): TimeText.sqlite(v)
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
        let filter = dialect(dataset).render(predicate)
        let sql = "SELECT min(\(SQLIdentifier.quoted(column))) FROM \(table(dataset)) WHERE \(filter.sql) AND \(SQLIdentifier.quoted(column)) IS NOT NULL"
        return try run {
            try queue.read { db in
                Engine.instant(Self.value(try DatabaseValue.fetchOne(db, sql: sql, arguments: Self.arguments(filter.binds)) ?? .null))
            }
        }
    }

    func close() async {
        try? queue.close()
    }
}
