import Foundation
import GRDB
import Testing
import TestSupport

/// `kill -9` at random moments — between batches and mid-batch — then restart: exactly the due,
/// unheld records are gone, nothing else, and the counts and the audit chain agree.
@Suite("Crash safety under SIGKILL", .serialized)
struct CrashTests {
    static let kills = 20

    static let rules = """
        version: 1
        defaults: {timezone: Europe/Brussels}
        rules:
          tracking:
            retain: 7d
            from: created_at
            then: anonymize
            basis: test
          tracking-delete:
            retain: 90d
            from: created_at
            then: delete
            basis: test
        """

    /// Runs `retentionctl run` and kills it with SIGKILL after a random delay, until `kills`
    /// kills landed while it was still working; then one run to the end. Returns the kills.
    static func killRepeatedly(_ arguments: [String], environment: [String: String] = [:]) throws -> Int {
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        var finished = 0
        while kills < Self.kills && finished < 3 {
            let process = Process()
            process.executableURL = RetentionCtlTests.binary
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Short enough that the kills land before the job is done on a fast, idle machine too (a
            // files store deletes thousands of files a second).
            usleep(UInt32.random(in: 20_000...150_000, using: &generator))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
            if process.terminationReason == .exit { finished += 1 }
        }
        let last = try RetentionCtlTests.run(arguments)
        #expect(last.status == 0, "\(last.stderr)")
        return kills
    }

    static func storesFile(_ directory: String, _ body: String) throws -> String {
        let path = directory + "/stores.yaml"
        try ("version: 1\nstores:\n" + body).write(toFile: path, atomically: true, encoding: .utf8)
        try rules.write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        return path
    }

    static func directory() throws -> String {
        let path = NSTemporaryDirectory() + "retentiond-crash-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Audit and job counts agree with what the store shows.
    static func checkState(_ directory: String, deleted: Int, anonymized: Int?) throws {
        let state = try DatabaseQueue(path: directory + "/state.sqlite")
        try state.read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM batch") == 0)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM job WHERE state NOT IN ('done')") == 0)
            let deletes = try Int.fetchOne(db, sql: "SELECT coalesce(sum(done_count), 0) FROM job WHERE action = 'delete'") ?? -1
            #expect(deletes == deleted)
            #expect(try Int.fetchOne(db, sql: "SELECT coalesce(sum(count), 0) FROM audit WHERE action = 'delete'") == deleted)
            if let anonymized {
                #expect(try Int.fetchOne(db, sql: "SELECT coalesce(sum(done_count), 0) FROM job WHERE action = 'anonymize'") == anonymized)
            }
        }
        let verify = try RetentionCtlTests.run(["audit", "verify", "--state", directory + "/state.sqlite"])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test("SQLite: 20 SIGKILLs, then exactly the due records are anonymized or deleted")
    func sqlite() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let now = Date()
        let records = 12_000
        let queue = try DatabaseQueue(path: directory + "/store.sqlite")
        try queue.write { db in
            // Two tables, one per action, so that each action's count can be checked exactly.
            try db.execute(sql: """
                CREATE TABLE t (id INTEGER PRIMARY KEY, created_at TEXT, name TEXT, anonymized_at TEXT); CREATE INDEX t_c ON t(created_at);
                CREATE TABLE u (id INTEGER PRIMARY KEY, created_at TEXT, name TEXT); CREATE INDEX u_c ON u(created_at);
                """)
            for id in 1...records {
                // Ages in days with half a day to spare, so that later passes do not move a boundary.
                let age = Double(id % 200) + 0.5
                let created = SQLiteText.seconds(now.addingTimeInterval(-age * 86_400))
                try db.execute(sql: "INSERT INTO t VALUES (?, ?, 'someone', NULL)", arguments: [id, created])
                try db.execute(sql: "INSERT INTO u VALUES (?, ?, 'someone')", arguments: [id, created])
            }
        }
        let stores = try Self.storesFile(directory, """
              db:
                kind: sqlite
                path: store.sqlite
                datasets:
                  t: {table: t, key: id, rules: [tracking], fields: {created_at: created_at}, anonymize: {name: "null"}}
                  u: {table: u, key: id, rules: [tracking-delete], fields: {created_at: created_at}}
            """)
        let held: Set<Int> = [150, 1350, 7777]
        for key in held {
            for dataset in ["t", "u"] {
                let placed = try RetentionCtlTests.run(["hold", "add", "--rules", directory + "/rules.yaml", "--stores", stores,
                                                        "--state", directory + "/state.sqlite", "--init", "--store", "db", "--dataset", dataset,
                                                        "--key", String(key), "--reason", "case"])
                #expect(placed.status == 0, "\(placed.stderr)")
            }
        }
        let kills = try Self.killRepeatedly(["run", "--init", "--rules", directory + "/rules.yaml", "--stores", stores, "--state",
                                             directory + "/state.sqlite", "--batch-size", "5", "--max-delete-share", "100", "-q"])
        #expect(kills >= Self.kills)
        print("sqlite: survived \(kills) SIGKILLs")
        let names = try queue.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT id, name FROM t").map { ($0["id"] as Int, $0["name"] as String?) })
        }
        let kept = try queue.read { db in Set(try Int.fetchAll(db, sql: "SELECT id FROM u")) }
        #expect(names.count == records)
        var expectedDeleted = 0, expectedAnonymized = 0
        for id in 1...records {
            let age = id % 200
            let unheld = !held.contains(id)
            if age >= 90 && unheld {
                #expect(!kept.contains(id), "record \(id), \(age) days old, should be deleted")
                expectedDeleted += 1
            } else {
                #expect(kept.contains(id), "record \(id), \(age) days old, must remain")
            }
            let anonymize = age >= 7 && unheld
            if anonymize { expectedAnonymized += 1 }
            #expect((names[id] ?? nil) == (anonymize ? nil : "someone"), "record \(id), \(age) days old")
        }
        try Self.checkState(directory, deleted: expectedDeleted, anonymized: expectedAnonymized)
    }

    @Test("files: 20 SIGKILLs, then exactly the old files are gone")
    func files() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let root = directory + "/logs"
        let files = 6_000
        for index in 0..<files {
            let folder = root + "/d\(index % 30)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let path = folder + "/f\(index).log"
            let age = Double(index % 200) + 0.5
            let mtime = Date().addingTimeInterval(-age * 86_400)
            #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8), attributes: [.modificationDate: mtime]))
        }
        let stores = try Self.storesFile(directory, """
              logs:
                kind: files
                path: logs
                match: "*.log"
                rules: [tracking-delete]
                fields: {created_at: mtime}
            """)
        let kills = try Self.killRepeatedly(["run", "--init", "--rules", directory + "/rules.yaml", "--stores", stores, "--state",
                                             directory + "/state.sqlite", "--batch-size", "2", "--max-delete-share", "100", "-q"])
        #expect(kills >= Self.kills)
        print("files: survived \(kills) SIGKILLs")
        var expectedDeleted = 0
        for index in 0..<files {
            let exists = FileManager.default.fileExists(atPath: root + "/d\(index % 30)/f\(index).log")
            if index % 200 >= 90 { expectedDeleted += 1 }
            #expect(exists == (index % 200 < 90), "file \(index)")
        }
        try Self.checkState(directory, deleted: expectedDeleted, anonymized: nil)
    }
}

extension CrashTests {
    @Test("PostgreSQL: 20 SIGKILLs, then exactly the due rows are anonymized or deleted")
    func postgres() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let dsn = environment["RETENTIOND_TEST_POSTGRES_DSN"], let password = environment["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"] else {
            #expect(environment["RETENTIOND_REQUIRE_POSTGRES"] != "1", "PostgreSQL required but scripts/with-postgres did not provide one")
            return
        }
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let records = 8_000
        // Ages in days plus half a day, as for SQLite; `id % 200` is the age.
        try PostgresShell.psql("""
            DROP TABLE IF EXISTS crash_t, crash_u;
            CREATE TABLE crash_t (id bigint PRIMARY KEY, created_at timestamptz, name text, anonymized_at timestamptz);
            CREATE TABLE crash_u (id bigint PRIMARY KEY, created_at timestamptz);
            CREATE INDEX ON crash_t(created_at); CREATE INDEX ON crash_u(created_at);
            INSERT INTO crash_t SELECT g, now() - ((g % 200) + 0.5) * interval '1 day', 'someone', NULL FROM generate_series(1, \(records)) g;
            INSERT INTO crash_u SELECT g, now() - ((g % 200) + 0.5) * interval '1 day' FROM generate_series(1, \(records)) g;
            """)
        let stores = try Self.storesFile(directory, """
              pg:
                kind: postgres
                dsn: \(dsn)
                datasets:
                  t: {table: crash_t, key: id, rules: [tracking], fields: {created_at: created_at}, anonymize: {name: "null"}}
                  u: {table: crash_u, key: id, rules: [tracking-delete], fields: {created_at: created_at}}
            """)
        let kills = try Self.killRepeatedly(["run", "--init", "--rules", directory + "/rules.yaml", "--stores", stores, "--state",
                                             directory + "/state.sqlite", "--postgres-password-file", password,
                                             "--batch-size", "5", "--max-delete-share", "100", "-q"])
        #expect(kills >= Self.kills)
        print("postgres: survived \(kills) SIGKILLs")
        let expectedDeleted = (1...records).filter { $0 % 200 >= 90 }.count
        let expectedAnonymized = (1...records).filter { $0 % 200 >= 7 }.count
        #expect(try PostgresShell.psql("SELECT count(*) FROM crash_u WHERE id % 200 >= 90") == "0")
        #expect(try PostgresShell.psql("SELECT count(*) FROM crash_u") == String(records - expectedDeleted))
        #expect(try PostgresShell.psql("SELECT count(*) FROM crash_t WHERE (name IS NULL) <> (id % 200 >= 7)") == "0")
        try Self.checkState(directory, deleted: expectedDeleted, anonymized: expectedAnonymized)
    }
}
