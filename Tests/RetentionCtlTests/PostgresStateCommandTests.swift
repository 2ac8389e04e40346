import Foundation
import GRDB
import Testing
import TestSupport

/// `--state postgresql://…` from the command line, and `retentionctl state migrate`, against the
/// `scripts/with-postgres` cluster (skipped without it), each test in a database of its own.
@Suite("retentionctl on a PostgreSQL state")
struct PostgresStateCommandTests {
    /// Rules, a SQLite store of 10 records, 5, 15, … 95 days old (7 of them due under 30 days), and a key.
    struct Setup {
        let directory = NSTemporaryDirectory() + "retentionctl-pgstate-" + UUID().uuidString
        let database: PostgresTestDatabase

        init(_ database: PostgresTestDatabase) throws {
            self.database = database
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try """
                version: 1
                defaults: {timezone: UTC}
                rules:
                  short: {retain: 30d, from: created_at, then: delete, basis: test}
                """.write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
            try """
                version: 1
                stores:
                  app:
                    kind: sqlite
                    path: app.sqlite
                    datasets:
                      records: {table: records, key: id, rules: [short], fields: {created_at: created_at}, max-delete-share: 100%}
                """.write(toFile: directory + "/stores.yaml", atomically: true, encoding: .utf8)
            let queue = try DatabaseQueue(path: directory + "/app.sqlite")
            try queue.write { db in
                try db.execute(sql: "CREATE TABLE records (id INTEGER PRIMARY KEY, created_at TEXT)")
                for id in 1...10 {
                    try db.execute(sql: "INSERT INTO records VALUES (?, datetime('now', ?))", arguments: [id, "-\(id * 10 - 5) days"])
                }
            }
            try queue.close()
            try "0123456789abcdef0123456789abcdef\n".write(toFile: key, atomically: true, encoding: .utf8)
        }

        var key: String { directory + "/hmac-key" }
        var sqliteState: String { directory + "/state.sqlite" }
        var postgres: [String] { ["--state", database.url, "--state-password-file", database.passwordFile] }
        var configuration: [String] { ["--rules", directory + "/rules.yaml", "--stores", directory + "/stores.yaml", "--hmac-key", key] }
        var password: String { (try? String(contentsOfFile: database.passwordFile, encoding: .utf8))?.trimmingCharacters(in: .newlines) ?? "" }

        func remaining() throws -> [Int64] {
            let queue = try DatabaseQueue(path: directory + "/app.sqlite")
            defer { try? queue.close() }
            return try queue.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM records ORDER BY id") }
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func run(_ arguments: [String], _ setup: Setup) throws -> RetentionCtlTests.Run {
        let run = try RetentionCtlTests.run(arguments)
        #expect(!(run.stdout + run.stderr).contains(setup.password), "the password was printed: \(run.stdout)\(run.stderr)")
        return run
    }

    @Test("run --state postgresql://… --init deletes what is due in a SQLite store, and audit verify passes; without --init a new database is refused")
    func runOnPostgres() throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let setup = try Setup(database)
        defer { setup.remove() }
        let refused = try Self.run(["run"] + setup.configuration + setup.postgres + ["--max-delete-share", "100", "-q"], setup)
        #expect(refused.status == 1 && refused.stderr.contains("no retentiond state in this database"), "\(refused.stderr)")
        #expect(try setup.remaining().count == 10)
        let run = try Self.run(["run"] + setup.configuration + setup.postgres + ["--init", "--max-delete-share", "100", "-q"], setup)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(try setup.remaining() == [1, 2, 3])
        let verify = try Self.run(["audit", "verify", "--hmac-key", setup.key] + setup.postgres, setup)
        #expect(verify.status == 0 && verify.stdout.contains("audit trail intact: 1 records"), "\(verify.stdout)\(verify.stderr)")
        #expect(try database.psql("SELECT count || ' ' || outcome FROM audit") == "7 done")
        let jobs = try Self.run(["jobs", "--format", "json"] + setup.postgres, setup)
        #expect(jobs.status == 0 && jobs.stdout.contains("\"done\""), "\(jobs.stdout)\(jobs.stderr)")
    }

    @Test("retentiond --once on a PostgreSQL state: refused without --init, then a pass with it; its record verifies with retentionctl")
    func daemonOnPostgres() throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let setup = try Setup(database)
        defer { setup.remove() }
        func daemon(_ extra: [String]) throws -> ProgramRun {
            let run = try ProgramRun.run(BuiltProduct.path("retentiond", override: "RETENTIOND"),
                                         ["--once", "--log-target", "console"] + setup.configuration + setup.postgres + extra, standardError: .separate)
            #expect(!(run.stdout + run.stderr).contains(setup.password))
            return run
        }
        let refused = try daemon([])
        #expect(refused.status == 1 && (refused.stdout + refused.stderr).contains("no retentiond state in this database"), "\(refused.stderr)")
        #expect(try setup.remaining().count == 10)
        let once = try daemon(["--init"])
        #expect(once.status == 0, "\(once.stdout)\(once.stderr)")
        #expect(try setup.remaining() == [1, 2, 3])
        let verify = try Self.run(["audit", "verify", "--hmac-key", setup.key] + setup.postgres, setup)
        #expect(verify.status == 0 && verify.stdout.contains("audit trail intact: 1 records"), "\(verify.stdout)\(verify.stderr)")
    }

    @Test("state migrate copies jobs, holds, passes and the audit chain with its id: both sides verify alike; a second migrate is refused")
    func migrate() throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let setup = try Setup(database)
        defer { setup.remove() }
        let sqlite = ["--state", setup.sqliteState]
        let hold = try Self.run(["hold", "add"] + setup.configuration + sqlite + ["--init", "--store", "app", "--dataset", "records", "--key", "5",
                                                                              "--reason", "case 14"], setup)
        #expect(hold.status == 0, "\(hold.stderr)")
        let run = try Self.run(["run"] + setup.configuration + sqlite + ["--max-delete-share", "100", "-q"], setup)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(try setup.remaining() == [1, 2, 3, 5])

        let migrate = try Self.run(["state", "migrate", "--from", setup.sqliteState, "--to", database.url, "--state-password-file", database.passwordFile], setup)
        #expect(migrate.status == 0 && migrate.stdout.contains("copied 1 job, 1 hold, 1 pass"), "\(migrate.stdout)\(migrate.stderr)")
        for state in [sqlite, setup.postgres] {
            let verify = try Self.run(["audit", "verify", "--hmac-key", setup.key] + state, setup)
            #expect(verify.status == 0 && verify.stdout.contains("audit trail intact: 1 records"), "\(state): \(verify.stdout)\(verify.stderr)")
        }
        // The same records, hashes, MACs and chain: the head noted on one side verifies the other.
        let head = try Self.run(["audit", "head"] + sqlite, setup).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try Self.run(["audit", "head"] + setup.postgres, setup).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == head)
        #expect(try Self.run(["audit", "verify", "--head", head] + setup.postgres, setup).status == 0)
        for command in [["audit", "export"], ["hold", "list", "--all", "--format", "json"], ["jobs", "--format", "json"]] {
            let fromSQLite = try Self.run(command + sqlite, setup), fromPostgres = try Self.run(command + setup.postgres, setup)
            #expect(fromSQLite.status == 0 && fromSQLite.stdout == fromPostgres.stdout, "\(command): \(fromSQLite.stdout) vs \(fromPostgres.stdout)")
        }
        #expect(try database.psql("SELECT id FROM audit_chain") == (try DatabaseQueue(path: setup.sqliteState).read { db in
            try String.fetchOne(db, sql: "SELECT id FROM audit_chain") }))

        let again = try Self.run(["state", "migrate", "--from", setup.sqliteState, "--to", database.url, "--state-password-file", database.passwordFile], setup)
        #expect(again.status == 1 && again.stderr.contains("not empty: it holds 1 job, 1 hold, 1 pass, 1 audit record"), "\(again.stderr)")
        // A new job after the copy continues the ids.
        let release = try Self.run(["hold", "release", "1", "--by", "dpo"] + setup.postgres, setup)
        #expect(release.status == 0, "\(release.stderr)")
        let second = try Self.run(["run"] + setup.configuration + setup.postgres + ["--max-delete-share", "100", "-q"], setup)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(try setup.remaining() == [1, 2, 3])
        #expect(try database.psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM job") == "1,2")
        #expect(try Self.run(["audit", "verify", "--hmac-key", setup.key, "--head", head] + setup.postgres, setup).status == 0)
    }

    @Test("state migrate refuses a job row it cannot copy as written, before touching the target; and a --to that is no URL")
    func migrateRefusals() throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let setup = try Setup(database)
        defer { setup.remove() }
        let run = try Self.run(["run"] + setup.configuration + ["--state", setup.sqliteState, "--init", "--max-delete-share", "100", "-q"], setup)
        #expect(run.status == 0, "\(run.stderr)")
        let state = try DatabaseQueue(path: setup.sqliteState)
        try state.write { db in try db.execute(sql: "UPDATE job SET stage = 'two'") }
        try state.close()
        let migrate = try Self.run(["state", "migrate", "--from", setup.sqliteState, "--to", database.url, "--state-password-file", database.passwordFile], setup)
        #expect(migrate.status == 1 && migrate.stderr.contains("job 1 cannot be copied as written") && migrate.stderr.contains("stage holds"),
                "\(migrate.stderr)")
        #expect(try database.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0")
        let notURL = try Self.run(["state", "migrate", "--from", setup.sqliteState, "--to", setup.directory + "/other.sqlite"], setup)
        #expect(notURL.status == 2 && notURL.stderr.contains("--to must be a postgresql:// URL"), "\(notURL.stderr)")
    }

    @Test("an unreachable state server: retentionctl and retentiond say so and exit 1, without the password")
    func unreachable() throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let setup = try Setup(database)
        defer { setup.remove() }
        let url = "postgresql://retentiond@127.0.0.1:1/nowhere"
        let ctl = try Self.run(["run"] + setup.configuration + ["--state", url, "--state-password-file", database.passwordFile, "--init"], setup)
        #expect(ctl.status == 1 && ctl.stderr.contains("cannot reach the state database"), "\(ctl.stderr)")
        let daemon = try ProgramRun.run(BuiltProduct.path("retentiond", override: "RETENTIOND"),
                                        ["--once", "--state", url, "--state-password-file", database.passwordFile, "--init"] + setup.configuration,
                                        standardError: .separate)
        #expect(daemon.status == 1, "\(daemon.stdout)\(daemon.stderr)")
        #expect((daemon.stdout + daemon.stderr).contains("cannot open the state database: \(url)?sslmode=disable: cannot reach the state database"),
                "\(daemon.stdout)\(daemon.stderr)")
        #expect(!(daemon.stdout + daemon.stderr).contains(setup.password))
        #expect(try setup.remaining().count == 10)
        // A wrong password: the server's refusal, not the password tried.
        try "Wr0ngSecret-14\n".write(toFile: setup.directory + "/wrong", atomically: true, encoding: .utf8)
        let wrong = try Self.run(["jobs", "--state", database.url, "--state-password-file", setup.directory + "/wrong"], setup)
        #expect(wrong.status == 1 && wrong.stderr.contains("password authentication failed"), "\(wrong.stderr)")
        #expect(!(wrong.stdout + wrong.stderr).contains("Wr0ngSecret"), "\(wrong.stderr)")
    }

    @Test("kill -9 at random instants while run keeps its state in PostgreSQL: exactly the due records deleted, counts and chain exact")
    func crashes() throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let setup = try Setup(database)
        defer { setup.remove() }
        let now = Date(), records = 4_000
        let queue = try DatabaseQueue(path: setup.directory + "/crash.sqlite")
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE u (id INTEGER PRIMARY KEY, created_at TEXT); CREATE INDEX u_c ON u(created_at)")
            for id in 1...records {
                // Ages in days with half a day to spare, so that later runs do not move a boundary.
                try db.execute(sql: "INSERT INTO u VALUES (?, ?)", arguments: [id, SQLiteText.seconds(now.addingTimeInterval(-(Double(id % 200) + 0.5) * 86_400))])
            }
        }
        try """
            version: 1
            stores:
              db:
                kind: sqlite
                path: crash.sqlite
                datasets:
                  u: {table: u, key: id, rules: [short], fields: {created_at: created_at}}
            """.write(toFile: setup.directory + "/stores.yaml", atomically: true, encoding: .utf8)
        let kills = try CrashTests.killRepeatedly(["run"] + setup.configuration + setup.postgres + ["--init", "--batch-size", "5", "--max-delete-share", "100", "-q"])
        #expect(kills >= 10)
        print("postgres state: survived \(kills) SIGKILLs")
        let kept = try queue.read { db in Set(try Int.fetchAll(db, sql: "SELECT id FROM u")) }
        let due = (1...records).filter { $0 % 200 >= 30 }
        #expect(kept == Set(1...records).subtracting(due))
        #expect(try database.psql("SELECT count(*) FROM batch") == "0")
        #expect(try database.psql("SELECT count(*) FROM job WHERE state <> 'done'") == "0")
        #expect(try database.psql("SELECT sum(done_count) FROM job") == "\(due.count)")
        #expect(try database.psql("SELECT sum(count) FROM audit") == "\(due.count)")
        let verify = try Self.run(["audit", "verify", "--hmac-key", setup.key] + setup.postgres, setup)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}

extension PostgresStateCommandTests {
    @Test("audit export shows who appended each record on a PostgreSQL state and under which claim's term; verify covers them")
    func exportShowsWriter() throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let setup = try Setup(database)
        defer { setup.remove() }
        let once = try ProgramRun.run(BuiltProduct.path("retentiond", override: "RETENTIOND"),
                                      ["--once", "--init", "--log-target", "console", "--daemon-id", "host-z:9"] + setup.configuration + setup.postgres,
                                      standardError: .separate)
        #expect(once.status == 0, "\(once.stdout)\(once.stderr)")
        let term = try database.psql("SELECT term FROM audit")
        #expect(Int(term).map { $0 > 0 } == true, "term \(term)")
        let json = try Self.run(["audit", "export"] + setup.postgres, setup)
        let records = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(records.count == 1 && records.first?["daemon"] as? String == "host-z:9" && (records.first?["term"] as? Int).map(String.init) == term,
                "\(json.stdout)")
        let csv = try Self.run(["audit", "export", "--format", "csv"] + setup.postgres, setup).stdout.split(separator: "\r\n")
        #expect(csv.first?.hasSuffix(",note,mac,term,daemon") == true && csv.last?.hasSuffix(",\(term),host-z:9") == true, "\(csv)")
        #expect(try Self.run(["audit", "verify", "--hmac-key", setup.key] + setup.postgres, setup).status == 0)
        try database.psql("ALTER TABLE audit DISABLE TRIGGER USER; UPDATE audit SET daemon = 'host-y:8'; ALTER TABLE audit ENABLE TRIGGER USER")
        let verify = try Self.run(["audit", "verify", "--hmac-key", setup.key] + setup.postgres, setup)
        #expect(verify.status != 0 && (verify.stdout + verify.stderr).contains("do not match its hash"), "\(verify.stdout)\(verify.stderr)")
    }
}
