import Foundation
import GRDB
import RetentionEngine
import RetentionRules
import RetentionStores
import Testing
import TestSupport

/// Holds name exactly the record whose key is the text typed, in the key column's own type
/// (issue 12, item 2): `007` and `+4512345678` on a text key once held records 7 and 4512345678.
@Suite("Hold keys", .serialized)
struct HoldKeyTests {
    static let rules = """
        version: 1
        defaults: {timezone: UTC}
        rules:
          logs:
            retain: 30d
            from: created_at
            then: delete
            basis: test
        """
    static let now = utc("2026-03-31 12:00:00")
    /// Text keys that read as the same numbers: every one is due.
    static let textKeys = ["007", "7", "+4512345678", "4512345678", "0", "x"]

    static func hold(_ engine: Engine, _ store: String, _ dataset: String, _ typed: String) async throws -> KeyLookup {
        let lookup = try await engine.lookUp(store: store, dataset: dataset, typed: typed)
        _ = try engine.database.addHold(.record(store: store, dataset: dataset, key: lookup.key), reason: "case", by: "legal", at: now)
        return lookup
    }

    static func phones(_ queue: DatabaseQueue) throws -> Set<String> {
        try queue.read { db in Set(try String.fetchAll(db, sql: "SELECT phone FROM contacts")) }
    }

    /// A hold row as an older version wrote it for `--key 007`: the JSON number 7.
    static func legacyHold(_ fixture: Fixture, store: String, dataset: String) throws {
        let state = try DatabaseQueue(path: fixture.statePath)
        try state.write { db in
            try db.execute(sql: "INSERT INTO hold (store, dataset, key, reason, created_by, created_at) VALUES (?, ?, '7', 'old', 'legal', '2026-01-01T00:00:00Z')",
                           arguments: [store, dataset])
        }
        try state.close()
    }

    @Test("SQLite text key: a hold on 007 or +4512345678 keeps exactly that record; 7 and 4512345678 are deleted as due")
    func sqliteText() async throws {
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              crm:
                kind: sqlite
                path: store.sqlite
                datasets:
                  contacts: {table: contacts, key: phone, rules: [logs], fields: {created_at: created_at}}
            """)
        let queue = try fixture.database { db in
            try db.execute(sql: "CREATE TABLE contacts (phone TEXT PRIMARY KEY, created_at TEXT)")
            for key in Self.textKeys { try db.execute(sql: "INSERT INTO contacts VALUES (?, '2025-01-01 00:00:00')", arguments: [key]) }
        }
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        let held = try await Self.hold(engine, "crm", "contacts", "007")
        #expect(held.key == .text("007") && held.type == .text && held.found == .record)
        _ = try await Self.hold(engine, "crm", "contacts", "+4512345678")
        _ = try await engine.runPass(at: Self.now)
        let left = try Self.phones(queue)
        #expect(left == ["007", "+4512345678"])
    }

    @Test("SQLite integer key: 007 is refused, 7 holds record 7")
    func sqliteInteger() async throws {
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              crm:
                kind: sqlite
                path: store.sqlite
                datasets:
                  records: {table: records, key: id, rules: [logs], fields: {created_at: created_at}}
            """)
        let queue = try fixture.database { db in
            try db.execute(sql: "CREATE TABLE records (id INTEGER PRIMARY KEY, created_at TEXT)")
            for key in 1...10 { try db.execute(sql: "INSERT INTO records VALUES (?, '2025-01-01 00:00:00')", arguments: [key]) }
        }
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        for typed in ["007", "+7", "7.0", " 7", "seven"] {
            await #expect(throws: KeyError.self, "\(typed)") { _ = try await engine.lookUp(store: "crm", dataset: "records", typed: typed) }
        }
        let missing = try await engine.lookUp(store: "crm", dataset: "records", typed: "11")
        #expect(missing.found == .nothing)
        let held = try await Self.hold(engine, "crm", "records", "7")
        #expect(held.key == .integer(7) && held.type == .integer)
        _ = try await engine.runPass(at: Self.now)
        #expect(try keys(queue) == [7])
    }

    @Test("a hold written before keys kept their type (a number for text 007) holds every text reading as it")
    func legacyNumber() async throws {
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              crm:
                kind: sqlite
                path: store.sqlite
                datasets:
                  contacts: {table: contacts, key: phone, rules: [logs], fields: {created_at: created_at}}
            """)
        let queue = try fixture.database { db in
            try db.execute(sql: "CREATE TABLE contacts (phone TEXT PRIMARY KEY, created_at TEXT)")
            for key in Self.textKeys { try db.execute(sql: "INSERT INTO contacts VALUES (?, '2025-01-01 00:00:00')", arguments: [key]) }
        }
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        // As the state database of an older version has it: `RecordKey(parsing: "007")` was 7.
        try Self.legacyHold(fixture, store: "crm", dataset: "contacts")
        #expect(try engine.database.holds().map(\.scope) == [.record(store: "crm", dataset: "contacts", key: .integer(7))])
        _ = try await engine.runPass(at: Self.now)
        let left = try Self.phones(queue)
        #expect(left == ["007", "7"])
    }

    @Test("files: 007 is not 7; ./ is normalised; a directory holds every file below it; absolute, .. and empty components refused")
    func files() async throws {
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              logs:
                kind: files
                path: logs
                rules: [logs]
                fields: {created_at: mtime}
            """)
        let root = fixture.directory.path + "/logs"
        let fm = FileManager.default
        for folder in ["case", "case/deep", "cases"] { try fm.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true) }
        let files = ["007", "7", "+4512345678", "4512345678", "case/a.log", "case/deep/b.log", "cases/c.log", "other.log"]
        for file in files {
            #expect(fm.createFile(atPath: root + "/" + file, contents: Data("x".utf8),
                                  attributes: [.modificationDate: Self.now.addingTimeInterval(-100 * 86_400)]))
        }
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        #expect(try await Self.hold(engine, "logs", "logs", "./007").key == .text("007"))
        _ = try await Self.hold(engine, "logs", "logs", "+4512345678")
        let directory = try await Self.hold(engine, "logs", "logs", "./case/")
        #expect(directory.key == .text("case") && directory.found == .directory)
        for typed in [root + "/7", "../logs/7", "case//a.log", "", "."] {
            await #expect(throws: KeyError.self, "\(typed)") { _ = try await engine.lookUp(store: "logs", dataset: "logs", typed: typed) }
        }
        #expect(try await engine.lookUp(store: "logs", dataset: "logs", typed: "abc").found == .nothing)
        let explained = try await engine.explain(store: "logs", dataset: "logs", key: .text("case/deep/b.log"), at: Self.now)
        #expect(explained?.holds.count == 1, "explain names the directory's hold")
        _ = try await engine.runPass(at: Self.now)
        let left = Set(files.filter { fm.fileExists(atPath: root + "/" + $0) })
        #expect(left == ["007", "+4512345678", "case/a.log", "case/deep/b.log"])
    }

    @Test("a typo'd store or dataset is refused, with the stores file's line of what was meant")
    func unknownNames() async throws {
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              crm:
                kind: sqlite
                path: store.sqlite
                datasets:
                  contacts: {table: contacts, key: phone, rules: [logs], fields: {created_at: created_at}}
            """)
        _ = try fixture.database { db in try db.execute(sql: "CREATE TABLE contacts (phone TEXT PRIMARY KEY, created_at TEXT)") }
        let engine = try fixture.engine()
        #expect(throws: UnknownNameError.self) { _ = try engine.dataset(store: "crn", dataset: nil) }
        do { _ = try engine.dataset(store: "crn", dataset: nil) } catch {
            #expect(error.message.contains("no store 'crn'") && error.message.contains("did you mean 'crm' (\(fixture.directory.path)/stores.yaml:3:3)"),
                    "\(error)")
        }
        #expect(throws: UnknownNameError.self) { _ = try engine.dataset(store: "crm", dataset: "contact") }
        do { _ = try engine.dataset(store: "crm", dataset: "contact") } catch {
            #expect(error.message.hasPrefix("\(fixture.directory.path)/stores.yaml:3:3: store 'crm' has no dataset 'contact'; did you mean 'contacts'"),
                    "\(error)")
        }
    }

    @Test("PostgreSQL text key: 007 and +4512345678 held exactly, a number hold no longer fails the pass")
    func postgres() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let dsn = environment["RETENTIOND_TEST_POSTGRES_DSN"], let password = environment["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"] else {
            #expect(environment["RETENTIOND_REQUIRE_POSTGRES"] != "1", "PostgreSQL required but scripts/with-postgres did not provide one")
            return
        }
        let values = Self.textKeys.map { "('\($0)', timestamptz '2025-01-01 00:00:00+00')" }.joined(separator: ", ")
        try PostgresShell.psql("""
            DROP TABLE IF EXISTS hold_contacts;
            CREATE TABLE hold_contacts (phone text PRIMARY KEY, created_at timestamptz);
            INSERT INTO hold_contacts VALUES \(values);
            DROP TABLE IF EXISTS hold_records;
            CREATE TABLE hold_records (id bigint PRIMARY KEY, created_at timestamptz);
            INSERT INTO hold_records SELECT g, timestamptz '2025-01-01 00:00:00+00' FROM generate_series(1, 10) g;
            """)
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              shop:
                kind: postgres
                dsn: \(dsn)
                datasets:
                  contacts: {table: public.hold_contacts, key: phone, rules: [logs], fields: {created_at: created_at}}
                  records: {table: public.hold_records, key: id, rules: [logs], fields: {created_at: created_at}}
            """)
        var engine = try fixture.engine { $0.maxDeleteShare = 1 }
        engine.connector = StoreConnectors(postgresPasswordFile: password)
        let held = try await Self.hold(engine, "shop", "contacts", "007")
        #expect(held.key == .text("007") && held.found == .record)
        _ = try await Self.hold(engine, "shop", "contacts", "+4512345678")
        await #expect(throws: KeyError.self) { _ = try await engine.lookUp(store: "shop", dataset: "records", typed: "007") }
        #expect(try await Self.hold(engine, "shop", "records", "7").key == .integer(7))
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.allSatisfy { $0.state == .done }, "\(report.finished.map(\.reason))")
        #expect(try PostgresShell.psql("SELECT string_agg(phone, ',' ORDER BY phone COLLATE \"C\") FROM hold_contacts") == "+4512345678,007")
        #expect(try PostgresShell.psql("SELECT string_agg(id::text, ',') FROM hold_records") == "7")

        // A hold from an older state database: the number 7 on the text key. It failed every pass
        // (`text <> bigint`); now it holds every text reading as 7.
        try PostgresShell.psql("DELETE FROM hold_contacts; INSERT INTO hold_contacts VALUES \(values);")
        try Self.legacyHold(fixture, store: "shop", dataset: "contacts")
        let again = try await engine.runPass(at: Self.now.addingTimeInterval(1))
        #expect(again.finished.allSatisfy { $0.state == .done }, "\(again.finished.map(\.reason))")
        #expect(try PostgresShell.psql("SELECT string_agg(phone, ',' ORDER BY phone COLLATE \"C\") FROM hold_contacts") == "+4512345678,007,7")
    }
}
