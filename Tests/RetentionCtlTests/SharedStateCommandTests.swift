import Foundation
import GRDB
import Synchronization
import Testing
import TestSupport

/// Several processes on one PostgreSQL state at once (issue 14 item 2), as separate programs:
/// each is a daemon of its own (`host:pid`), one plans, each job runs in one of them.
@Suite("retentionctl run: several processes on one PostgreSQL state")
struct SharedStateCommandTests {
    @Test("three runs started together on one PostgreSQL state: exactly the due rows go, one job, counted once, one chain that verifies")
    func runsTogether() throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let setup = try PostgresStateCommandTests.Setup(database)
        defer { setup.remove() }
        let now = Date(), records = 3_000
        let queue = try DatabaseQueue(path: setup.directory + "/many.sqlite")
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE u (id INTEGER PRIMARY KEY, created_at TEXT); CREATE INDEX u_c ON u(created_at)")
            for id in 1...records {
                try db.execute(sql: "INSERT INTO u VALUES (?, ?)", arguments: [id, SQLiteText.seconds(now.addingTimeInterval(-(Double(id % 200) + 0.5) * 86_400))])
            }
        }
        try queue.close()
        try """
            version: 1
            stores:
              db:
                kind: sqlite
                path: many.sqlite
                datasets:
                  u: {table: u, key: id, rules: [short], fields: {created_at: created_at}}
            """.write(toFile: setup.directory + "/stores.yaml", atomically: true, encoding: .utf8)
        let arguments = ["run"] + setup.configuration + setup.postgres + ["--init", "--batch-size", "10", "--max-delete-share", "100", "-q"]
        let runs = Mutex<[RetentionCtlTests.Run]>([])
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            let run = try? RetentionCtlTests.run(arguments)
            runs.withLock { $0.append(run ?? RetentionCtlTests.Run(status: -1, stdout: "", stderr: "could not start")) }
        }
        for run in runs.withLock({ $0 }) { #expect(run.status == 0, "\(run.stdout)\(run.stderr)") }
        let check = try DatabaseQueue(path: setup.directory + "/many.sqlite")
        let kept = try check.read { db in Set(try Int.fetchAll(db, sql: "SELECT id FROM u")) }
        let due = (1...records).filter { $0 % 200 >= 30 }
        #expect(kept == Set(1...records).subtracting(due))
        #expect(try database.psql("SELECT count(*) || ' ' || sum(done_count) FROM job") == "1 \(due.count)")
        #expect(try database.psql("SELECT count(*) || ' ' || sum(count) FROM audit") == "1 \(due.count)")
        #expect(try database.psql("SELECT count(*) FROM pass") == "3")
        let verify = try PostgresStateCommandTests.run(["audit", "verify", "--hmac-key", setup.key] + setup.postgres, setup)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}
