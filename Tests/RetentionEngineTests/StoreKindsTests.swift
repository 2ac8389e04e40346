import Foundation
import RetentionEngine
import RetentionRules
import RetentionStores
import Testing
#if canImport(Glibc)
import Glibc
import TestSupport
#endif

/// Files, PostgreSQL and command stores against the real thing.
@Suite("Store kinds", .serialized)
struct StoreKindsTests {
    static let rules = """
        version: 1
        defaults: {timezone: UTC}
        rules:
          logs:
            retain: 30d
            from: created_at
            then: delete
            basis: test
          tracking:
            from: created_at
            basis: test
            stages:
              - {after: 7d, then: anonymize}
              - {after: 90d, then: delete}
        """
    static let now = utc("2026-03-31 12:00:00")

    @Test("files: by mtime, never through a symbolic link, skipping locked files, removing emptied directories")
    func files() async throws {
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              logs:
                kind: files
                path: logs
                match: "*.log"
                rules: [logs]
                fields: {created_at: mtime}
                remove-empty-directories: true
            """)
        let root = fixture.directory.path + "/logs"
        let outside = fixture.directory.path + "/outside"
        for folder in ["old", "mixed", "mixed/deep"] { try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true) }
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        func file(_ path: String, age days: Double) {
            #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8),
                                                   attributes: [.modificationDate: Self.now.addingTimeInterval(-days * 86_400)]))
        }
        file(root + "/old/a.log", age: 40)
        file(root + "/old/b.log", age: 50)
        file(root + "/mixed/new.log", age: 3)
        file(root + "/mixed/deep/old.log", age: 100)
        file(root + "/mixed/old.txt", age: 100)          // does not match *.log
        file(root + "/mixed/locked.log", age: 100)
        file(outside + "/victim.log", age: 100)
        try FileManager.default.createSymbolicLink(atPath: root + "/link.log", withDestinationPath: outside + "/victim.log")
        try FileManager.default.createSymbolicLink(atPath: root + "/linkdir", withDestinationPath: outside)
        // Another process's lock: a separate open file description conflicts with flock(2).
        let descriptor = open(root + "/mixed/locked.log", O_RDONLY)
        #expect(flock(descriptor, LOCK_EX) == 0)
        defer { close(descriptor) }

        let engine = try fixture.engine { $0.maxDeleteShare = 1; $0.batchSize = 2 }
        let plan = try await engine.plan(at: Self.now)
        #expect(plan.entries.map(\.due) == [4])
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.doneCount) == [3])
        let fm = FileManager.default
        #expect(!fm.fileExists(atPath: root + "/old"), "emptied directory removed")
        #expect(!fm.fileExists(atPath: root + "/mixed/deep"))
        #expect(fm.fileExists(atPath: root + "/mixed/new.log"))
        #expect(fm.fileExists(atPath: root + "/mixed/old.txt"))
        #expect(fm.fileExists(atPath: root + "/mixed/locked.log"), "a locked file is skipped")
        #expect(fm.fileExists(atPath: outside + "/victim.log"), "links are never followed")
        #expect((try? fm.destinationOfSymbolicLink(atPath: root + "/link.log")) != nil, "the link itself is not a regular file")
    }

    @Test("files: a file time between two microseconds is never read as earlier than it is")
    func filesNanoseconds() async throws {
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
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // `30d` at 2026-03-31 12:00 UTC: due up to and including 2026-03-01 12:00:00.000000000 (the
        // cutoff is the next microsecond). A file 1 ns or 400 ns later is not due: rounded to the
        // nearest microsecond (or through a Double) it read as the last due instant and was deleted.
        let due = Int(utc("2026-03-01 12:00:00").timeIntervalSince1970)
        func file(_ name: String, seconds: Int, nanoseconds: Int) {
            #expect(FileManager.default.createFile(atPath: root + "/" + name, contents: Data("x".utf8)))
            var times = [timespec(tv_sec: seconds, tv_nsec: nanoseconds), timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
            #expect(utimensat(AT_FDCWD, root + "/" + name, &times, 0) == 0)
        }
        file("before.log", seconds: due - 1, nanoseconds: 999_999_999)
        file("at.log", seconds: due, nanoseconds: 0)
        file("after-1ns.log", seconds: due, nanoseconds: 1)
        file("after-400ns.log", seconds: due, nanoseconds: 400)
        file("after-600ns.log", seconds: due, nanoseconds: 600)
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        #expect(try await engine.plan(at: Self.now).entries.map(\.due) == [2])
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.doneCount) == [2])
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: root))
        #expect(left == ["after-1ns.log", "after-400ns.log", "after-600ns.log"])
    }

    @Test("command store: the job as JSON on stdin, the reply decides; failures and timeouts fail the job")
    func command() async throws {
        let directory = TemporaryDirectory()
        let log = directory.path + "/requests.jsonl"
        let script = directory.path + "/purge"
        try """
            #!/bin/sh
            read -r request
            echo "$request" >> \(log)
            case "$request" in
              *'"operation":"count"'*) echo '{"count": 3, "total": 10}' ;;
              *'"action":"delete"'*) echo '{"status": "done", "count": 3, "keys": ["a", "b", "c"]}' ;;
              *'"action":"anonymize"'*) echo "vendor API down" >&2; exit 3 ;;
            esac
            """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              vendor:
                kind: command
                exec: \(script)
                timeout: 60
                datasets:
                  events: {rules: [tracking], fields: {created_at: event_time}}
            """)
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.state) == [.failed, .done])
        #expect(report.finished.first?.reason?.contains("vendor API down") == true)
        #expect(report.finished.last?.doneCount == 3)
        var digest = KeyDigest()
        digest.add([RecordKey.text("a"), .text("b"), .text("c")])
        #expect(try engine.database.auditRecords().last?.keysSHA256 == digest.hex)
        let requests = try String(contentsOfFile: log, encoding: .utf8)
        #expect(requests.contains("\"cutoff\":\"2025-12-31T12:00:00.000001Z\""))

        try "#!/bin/sh\nsleep 30\n".write(toFile: script, atomically: true, encoding: .utf8)
        var slow = fixture
        // A long timeout above: a test process's shared pool can stall for seconds in a full run, and
        // the deadline is the subject only here.
        slow.storesText = fixture.storesText.replacingOccurrences(of: "timeout: 60", with: "timeout: 1")
        #expect(slow.storesText != fixture.storesText)
        let started = Date()
        await #expect(throws: (any Error).self) { _ = try await slow.engine().plan(at: Self.now) }
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test("PostgreSQL: plan, delete and anonymize in a real server, with password authentication")
    func postgres() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let dsn = environment["RETENTIOND_TEST_POSTGRES_DSN"], let password = environment["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"] else {
            // CI sets RETENTIOND_REQUIRE_POSTGRES=1: there, a missing server is a failure, not a skip.
            #expect(environment["RETENTIOND_REQUIRE_POSTGRES"] != "1", "PostgreSQL required but scripts/with-postgres did not provide one")
            return
        }
        try psql("""
            DROP TABLE IF EXISTS visits;
            CREATE TABLE visits (id bigint PRIMARY KEY, visited_at timestamptz, ip inet, email text, anonymized_at timestamptz);
            CREATE INDEX visits_visited_at ON visits(visited_at);
            INSERT INTO visits SELECT g, timestamptz '2026-03-31 12:00:00+00' - g * interval '1 day',
                   ('192.0.2.' || (g % 250))::inet, 'user' || g || '@example.com', NULL FROM generate_series(1, 100) g;
            """)
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              shop:
                kind: postgres
                dsn: \(dsn)
                datasets:
                  visits:
                    table: public.visits
                    key: id
                    rules: [tracking]
                    fields: {created_at: visited_at}
                    anonymize: {ip: truncate-ip, email: hmac-sha256}
                    anonymized-at: anonymized_at
            """)
        var engine = try fixture.engine { $0.maxDeleteShare = 1; $0.batchSize = 7 }
        engine.connector = StoreConnectors(postgresPasswordFile: password)
        let plan = try await engine.plan(at: Self.now)
        #expect(plan.entries.map(\.due) == [94, 11])
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.doneCount) == [94, 11])
        #expect(try psql("SELECT count(*) FROM visits") == "89")
        #expect(try psql("SELECT host(ip) || ' ' || length(email) FROM visits WHERE id = 8") == "192.0.2.0 64")
        #expect(try psql("SELECT count(*) FROM visits WHERE anonymized_at IS NULL") == "6")
        let again = try await engine.runPass(at: Self.now.addingTimeInterval(1))
        #expect(again.finished.isEmpty)
        let explained = try await engine.explain(store: "shop", dataset: "visits", key: .integer(8), at: Self.now)
        #expect(explained?.verdicts.first?.anchor == utc("2026-03-23 12:00:00"))
    }

    @discardableResult
    func psql(_ sql: String) throws -> String { try PostgresShell.psql(sql) }
}
