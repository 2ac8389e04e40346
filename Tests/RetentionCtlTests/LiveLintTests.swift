import Foundation
import GRDB
import Testing
import TestSupport

/// `retentionctl lint --live` against real SQLite files and the real PostgreSQL server.
@Suite("lint --live")
struct LiveLintTests {
    static let rules = """
        version: 1
        defaults:
          timezone: UTC
        rules:
          events:
            from: created_at
            basis: test
            stages:
              - {after: 30d, then: anonymize}
              - {after: 60d, then: restrict}
              - {after: 90d, then: delete}
          purge:
            from: created_at
            basis: test
            retain: 30d
            then: delete

        """

    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("live-lint-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try rules.write(toFile: path + "/rules.yaml", atomically: true, encoding: .utf8)
        return path
    }

    /// `app.sqlite` in `directory`, made by `sql`.
    static func database(_ directory: String, _ sql: String) throws {
        let database = try DatabaseQueue(path: directory + "/app.sqlite")
        try database.write { db in try db.execute(sql: sql) }
        try database.close()
    }

    static func lint(_ directory: String, _ stores: String) throws -> RetentionCtlTests.Run {
        try stores.write(toFile: directory + "/stores.yaml", atomically: true, encoding: .utf8)
        var arguments = ["lint", directory + "/rules.yaml", "--stores", directory + "/stores.yaml", "--live", "-q"]
        if let password = ProcessInfo.processInfo.environment["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"] {
            arguments += ["--postgres-password-file", password]
        }
        return try RetentionCtlTests.run(arguments)
    }

    @Test("SQLite: each wrong table, column, type and missing index is reported at its line; the suggested index silences the warning")
    func sqlite() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.database(directory, """
            CREATE TABLE events (id INTEGER PRIMARY KEY, created_at TEXT, ip INTEGER, email TEXT NOT NULL,
                                 note TEXT, seen DATETIME, restricted_at TEXT NOT NULL, anonymized_at TEXT);
            CREATE TABLE sessions (sid TEXT, started REAL);
            """)
        let stores = """
            version: 1
            stores:
              app:
                kind: sqlite
                path: app.sqlite
                datasets:
                  events:
                    table: events
                    key: id
                    rules: [events]
                    fields: { created_at: created_at }
                    anonymize: { ip: truncate-ip, email: "null", note: hmac-sha256, seen: {fixed: soon} }
                    anonymized-at: anonymised_at
                    restrict: restricted_at
                  missing:
                    table: session
                    key: sid
                    rules: [purge]
                    fields: { created_at: started }
                  sessions:
                    table: sessions
                    key: sid
                    rules: [purge]
                    fields: { created_at: startd }
            """
        let run = try Self.lint(directory, stores)
        #expect(run.status == 1)
        let file = directory + "/stores.yaml"
        let expected = [
            "\(file):11:31: warning: anchor column 'created_at' of table 'events' has no index, so every plan scans the table; run: CREATE INDEX \"events_created_at_idx\" ON \"events\" (\"created_at\");",
            "\(file):12:22: error: 'ip: truncate-ip' cannot be applied: column 'ip' is INTEGER;",
            "\(file):12:39: error: 'email: null' cannot be applied: column 'email' is TEXT NOT NULL; null cannot be stored there",
            "\(file):12:73: error: 'seen: {fixed: soon}' cannot be applied: column 'seen' is DATETIME; the fixed value 'soon' is not a value of that type",
            "\(file):13:24: error: 'anonymized-at' column 'anonymised_at' does not exist in table 'events'; did you mean 'anonymized_at'?",
            "\(file):14:19: error: 'restrict' column 'restricted_at' is NOT NULL",
            "\(file):16:16: error: table 'session' does not exist in store 'app'; did you mean 'sessions'?",
            "\(file):22:14: warning: key column 'sid' is not unique",
            "\(file):24:31: error: field 'created_at': column 'startd' does not exist in table 'sessions'; did you mean 'started'?",
        ]
        for line in expected {
            #expect(run.stdout.contains(line), "missing: \(line)\n\(run.stdout)")
        }
        #expect(run.stdout.split(separator: "\n").count == expected.count, "\(run.stdout)")
        // hmac-sha256 on a TEXT column is fine: nothing is said about 'note'.
        #expect(!run.stdout.contains("'note"))

        // Run exactly the statement the warning suggests; the warning goes.
        let statement = try #require(run.stdout.split(separator: "\n").first { $0.contains("run: CREATE INDEX") }?
            .components(separatedBy: "run: ").last)
        try Self.database(directory, statement)
        let fixed = try Self.lint(directory, stores)
        #expect(!fixed.stdout.contains("has no index"), "\(fixed.stdout)")
    }

    @Test("a stores file that matches its SQLite database passes --live, and --live changes nothing")
    func sqliteClean() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.database(directory, """
            CREATE TABLE events (id INTEGER PRIMARY KEY, created_at TEXT, ip TEXT, email TEXT, restricted_at TEXT, anonymized_at TEXT);
            CREATE INDEX events_created ON events (created_at);
            INSERT INTO events VALUES (1, '2001-01-01', '192.0.2.1', 'a@example.org', NULL, NULL);
            """)
        let before = try Data(contentsOf: URL(fileURLWithPath: directory + "/app.sqlite"))
        let run = try Self.lint(directory, """
            version: 1
            stores:
              app:
                kind: sqlite
                path: app.sqlite
                datasets:
                  events:
                    table: events
                    key: id
                    rules: [events]
                    fields: { created_at: created_at }
                    anonymize: { ip: truncate-ip, email: hmac-sha256 }
                    anonymized-at: anonymized_at
                    restrict: restricted_at
              logs:
                kind: files
                path: .
                match: "*.log"
                rules: [purge]
                fields: { created_at: mtime }
            """)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.isEmpty, "\(run.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/app.sqlite")) == before)
    }

    @Test("a files store whose directory is missing and a command that is not a program are errors at the store")
    func filesAndCommand() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "not a program".write(toFile: directory + "/purge.sh", atomically: true, encoding: .utf8)
        let run = try Self.lint(directory, """
            version: 1
            stores:
              logs:
                kind: files
                path: no-such-directory
                match: "*.log"
                rules: [purge]
                fields: { created_at: mtime }
              crm:
                kind: command
                exec: purge.sh
                datasets:
                  people: { rules: [purge], fields: { created_at: created_at } }
            """)
        #expect(run.status == 1)
        let file = directory + "/stores.yaml"
        #expect(run.stdout.contains("\(file):3:3: error: store 'logs': \(directory)/no-such-directory is not a directory"), "\(run.stdout)")
        #expect(run.stdout.contains("\(file):9:3: error: store 'crm': \(directory)/purge.sh is not an executable program"), "\(run.stdout)")
    }

    @Test("PostgreSQL: types, nullability, varchar length, uuid keys and missing indexes, from the catalog")
    func postgres() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let dsn = environment["RETENTIOND_TEST_POSTGRES_DSN"] else {
            #expect(environment["RETENTIOND_REQUIRE_POSTGRES"] != "1", "PostgreSQL required but scripts/with-postgres did not provide one")
            return
        }
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try PostgresShell.psql("""
            DROP TABLE IF EXISTS live_events, live_devices;
            CREATE TABLE live_events (id bigint PRIMARY KEY, created_at timestamptz, ip inet, email varchar(40),
                                      country text NOT NULL, restricted_at text, anonymized_at timestamptz);
            CREATE TABLE live_devices (id uuid PRIMARY KEY, seen_at timestamptz, kind text);
            CREATE INDEX ON live_devices (kind, seen_at);
            """)
        let stores = """
            version: 1
            stores:
              pg:
                kind: postgres
                dsn: \(dsn)
                datasets:
                  events:
                    table: live_events
                    key: id
                    rules: [events]
                    fields: { created_at: created_at }
                    anonymize: { ip: truncate-ip, email: hmac-sha256, country: "null" }
                    anonymized-at: anonymized_at
                    restrict: restricted_at
                  devices:
                    table: live_device
                    key: id
                    rules: [purge]
                    fields: { created_at: seen_at }
            """
        let run = try Self.lint(directory, stores)
        #expect(run.status == 1)
        let file = directory + "/stores.yaml"
        let expected = [
            "\(file):11:31: warning: anchor column 'created_at' of table 'live_events' has no index, so every plan scans the table; run: CREATE INDEX CONCURRENTLY \"live_events_created_at_idx\" ON \"live_events\" (\"created_at\");",
            "\(file):12:39: error: 'email: hmac-sha256' cannot be applied: column 'email' is character varying; hmac-sha256 writes 64 hexadecimal characters",
            "\(file):12:59: error: 'country: null' cannot be applied: column 'country' is text NOT NULL",
            "\(file):14:19: error: 'restrict' column 'restricted_at' is text: retentiond writes the time there; use a timestamptz column",
            "\(file):16:16: error: table 'live_device' does not exist in store 'pg'; did you mean 'live_devices'?",
        ]
        for line in expected {
            #expect(run.stdout.contains(line), "missing: \(line)\n\(run.stdout)")
        }
        #expect(run.stdout.split(separator: "\n").count == expected.count, "\(run.stdout)")

        // With the table named right: a uuid key cannot be paged, and an index that does not lead
        // with the anchor column does not count.
        let devices = try Self.lint(directory, stores.replacingOccurrences(of: "table: live_device\n", with: "table: live_devices\n"))
        #expect(devices.stdout.contains("\(file):17:14: error: key column 'id' is uuid"), "\(devices.stdout)")
        #expect(devices.stdout.contains("\(file):19:31: warning: anchor column 'seen_at' of table 'live_devices' has no index"), "\(devices.stdout)")

        // The suggested statement, run as printed, makes the warning go.
        let statement = try #require(run.stdout.split(separator: "\n").first { $0.contains("run: CREATE INDEX") }?
            .components(separatedBy: "run: ").last)
        try PostgresShell.psql(statement)
        let fixed = try Self.lint(directory, stores)
        #expect(!fixed.stdout.contains("'live_events' has no index"), "\(fixed.stdout)")
    }
}
