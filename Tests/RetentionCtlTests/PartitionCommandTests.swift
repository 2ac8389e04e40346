import Foundation
import GRDB
import Testing
import TestSupport

/// `lint --live`, `plan` and `run` on PostgreSQL tables partitioned by month, in a real server, at
/// the real time: Dynatrace data kept 35 days (Konica Minolta Belgium §8.4.2).
@Suite("Partitions from the command line", .serialized)
struct PartitionCommandTests {
    static let rules = """
        version: 1
        defaults: {timezone: UTC}
        rules:
          kmbe-dynatrace:
            retain: 35d
            from: dynatrace_data_collected_at
            then: delete
            basis: consent (§8.4.2)

        """

    /// `table`, partitioned by month from six months ago to next month, with a default partition;
    /// one row a day, six hours before this time of day, from 200 days ago to 20 days ahead (so
    /// that no row falls due between the test's counts and the runs).
    static func create(_ table: String, byID: Bool = false, perDay: Int = 1) throws {
        try psql("DROP TABLE IF EXISTS \(table) CASCADE")
        try psql("""
            CREATE TABLE \(table) (id bigint, collected_at timestamptz NOT NULL, PRIMARY KEY (id, collected_at))
                PARTITION BY RANGE (\(byID ? "id" : "collected_at"));
            """)
        if byID {
            try psql("CREATE TABLE \(table)_low PARTITION OF \(table) FOR VALUES FROM (0) TO (1100); CREATE TABLE \(table)_high PARTITION OF \(table) DEFAULT")
        } else {
            try psql("""
                DO $$ DECLARE m int; s timestamptz; BEGIN
                  FOR m IN -6..1 LOOP
                    s := date_trunc('month', now()) + m * interval '1 month';
                    EXECUTE format('DROP TABLE IF EXISTS %I', '\(table)_' || to_char(s, 'YYYY_MM'));
                    EXECUTE format('CREATE TABLE %I PARTITION OF \(table) FOR VALUES FROM (%L) TO (%L)', '\(table)_' || to_char(s, 'YYYY_MM'), s, s + interval '1 month');
                  END LOOP;
                END $$;
                CREATE TABLE \(table)_default PARTITION OF \(table) DEFAULT;
                """)
        }
        try psql("""
            CREATE INDEX ON \(table) (collected_at);
            INSERT INTO \(table) SELECT g + 1000 * \(perDay), now() - interval '6 hours' - g * interval '1 day' / \(perDay)
                FROM generate_series(-20 * \(perDay), 200 * \(perDay)) g;
            """)
    }

    static func due(_ table: String) throws -> Int {
        Int(try psql("SELECT count(*) FROM \(table) WHERE collected_at <= now() - interval '35 days'")) ?? -1
    }

    static func directory(_ tables: [String: String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("partitions-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try rules.write(toFile: path + "/rules.yaml", atomically: true, encoding: .utf8)
        let dsn = ProcessInfo.processInfo.environment["RETENTIOND_TEST_POSTGRES_DSN"] ?? ""
        var stores = "version: 1\nstores:\n  web:\n    kind: postgres\n    dsn: \(dsn)\n    datasets:\n"
        for (dataset, table) in tables.sorted(by: { $0.key < $1.key }) {
            stores += "      \(dataset):\n        table: \(table)\n        key: id\n        rules: [kmbe-dynatrace]\n"
                + "        fields: {dynatrace_data_collected_at: collected_at}\n"
        }
        try stores.write(toFile: path + "/stores.yaml", atomically: true, encoding: .utf8)
        return path
    }

    static func arguments(_ command: [String], _ directory: String) -> [String] {
        command + ["--rules", directory + "/rules.yaml", "--stores", directory + "/stores.yaml",
                   "--postgres-password-file", ProcessInfo.processInfo.environment["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"] ?? ""]
    }

    @Test("lint --live and plan say which partitions each delete stage takes whole, which by rows and why")
    func lintAndPlan() throws {
        guard Self.server() else { return }
        try Self.create("dyn_lint")
        try Self.create("dyn_by_id", byID: true)
        let directory = try Self.directory(["monitoring": "dyn_lint", "by-id": "dyn_by_id"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lint = try RetentionCtlTests.run(["lint", directory + "/rules.yaml", "--stores", directory + "/stores.yaml", "--live",
                                              "--postgres-password-file", ProcessInfo.processInfo.environment["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"] ?? ""])
        #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
        let cutoffMonth = try Self.psql("SELECT to_char(now() - interval '35 days', 'YYYY_MM')")
        let whole = try Self.psql("""
            SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'dyn_lint'::regclass AND c.relname < 'dyn_lint_\(cutoffMonth)' AND c.relname <> 'dyn_lint_default'
            """).split(separator: " ")
        #expect(whole.count >= 5)
        for name in whole {
            #expect(lint.stdout.contains("note: delete stage of rule kmbe-dynatrace: whole partition (dropped): public.\(name) FOR VALUES FROM"), "\(lint.stdout)")
        }
        #expect(lint.stdout.contains("rows: public.dyn_lint_\(cutoffMonth) FOR VALUES FROM"))
        #expect(lint.stdout.contains("the cutoff cuts through it"))
        #expect(lint.stdout.contains("rows: public.dyn_lint_default DEFAULT: the default partition"))
        #expect(lint.stdout.contains("rows (no partition taken whole): table \"dyn_by_id\" is partitioned on column id, not on the anchor column collected_at"))

        let plan = try RetentionCtlTests.run(Self.arguments(["plan", "--init", "--state", directory + "/state.sqlite"], directory))
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("partitioned tables:\n  web/by-id, rule kmbe-dynatrace stage 1:\n    rows (no partition taken whole)"), "\(plan.stdout)")
        for name in whole { #expect(plan.stdout.contains("whole partition (dropped): public.\(name) FOR VALUES FROM")) }
        #expect(try Self.psql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'dyn_lint'::regclass") == "9")
    }

    @Test("kill -9 while a partition's drop waits for its lock, after the partition was recorded: the restart settles it and counts every row once")
    func killedWhileDropping() throws {
        guard Self.server() else { return }
        try Self.create("dyn_crash")
        let due = try Self.due("dyn_crash")
        let remaining = Int(try Self.psql("SELECT count(*) FROM dyn_crash")) ?? -1
        let directory = try Self.directory(["monitoring": "dyn_crash"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The DETACH of a partition locks the default partition: held here, it waits there.
        let blocker = Process()
        blocker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        blocker.arguments = ["psql", "-X", "-q", "-c", "BEGIN; LOCK TABLE dyn_crash_default IN ACCESS SHARE MODE; SELECT pg_sleep(60)"]
        blocker.standardOutput = FileHandle.nullDevice
        try blocker.run()
        defer { if blocker.isRunning { kill(blocker.processIdentifier, SIGKILL) } }
        let runArguments = Self.arguments(["run", "--init", "--state", directory + "/state.sqlite", "--max-delete-share", "100"], directory)
        let run = Process()
        run.executableURL = RetentionCtlTests.binary
        run.arguments = runArguments
        run.standardOutput = FileHandle.nullDevice
        run.standardError = FileHandle.nullDevice
        try run.run()
        var waiting = false
        for _ in 0..<200 where !waiting {
            usleep(20_000)
            waiting = try Self.psql("""
                SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE "dyn_crash" DETACH PARTITION%'
                """) != "0"
        }
        #expect(waiting, "the drop never waited for the lock")
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        let state = try DatabaseQueue(path: directory + "/state.sqlite")
        let pending = try state.read { db in try String.fetchOne(db, sql: "SELECT keys FROM batch") }
        #expect(pending?.contains("retentiond-partition ") == true, "\(pending ?? "no batch in flight")")
        try state.close()
        // Its server process, asleep, would not notice a killed psql until the sleep ends.
        try Self.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()")
        blocker.waitUntilExit()

        let last = try RetentionCtlTests.run(runArguments)
        #expect(last.status == 0, "\(last.stdout)\(last.stderr)")
        #expect(try Self.psql("SELECT count(*) FROM dyn_crash") == String(remaining - due))
        #expect(try Self.due("dyn_crash") == 0)
        try CrashTests.checkState(directory, deleted: due, anonymized: nil)
        let verify = try RetentionCtlTests.run(["audit", "verify", "--state", directory + "/state.sqlite"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test("kill -9 at random instants of a pass that drops partitions: exactly the due rows go, counted once")
    func killedAtRandom() throws {
        guard Self.server() else { return }
        try Self.create("dyn_torture", perDay: 300)
        let due = try Self.due("dyn_torture")
        let remaining = Int(try Self.psql("SELECT count(*) FROM dyn_torture")) ?? -1
        let directory = try Self.directory(["monitoring": "dyn_torture"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let kills = try CrashTests.killRepeatedly(Self.arguments(["run", "--init", "--state", directory + "/state.sqlite", "--max-delete-share", "100"], directory))
        #expect(kills > 0)
        #expect(try Self.psql("SELECT count(*) FROM dyn_torture") == String(remaining - due))
        #expect(try Self.due("dyn_torture") == 0)
        try CrashTests.checkState(directory, deleted: due, anonymized: nil)
        let verify = try RetentionCtlTests.run(["audit", "verify", "--state", directory + "/state.sqlite"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    static func server() -> Bool {
        let environment = ProcessInfo.processInfo.environment
        guard environment["RETENTIOND_TEST_POSTGRES_DSN"] != nil else {
            #expect(environment["RETENTIOND_REQUIRE_POSTGRES"] != "1", "PostgreSQL required but scripts/with-postgres did not provide one")
            return false
        }
        return true
    }

    @discardableResult
    static func psql(_ sql: String) throws -> String { try PostgresShell.psql(sql) }
}
