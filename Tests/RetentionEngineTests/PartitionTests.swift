import Foundation
@testable import RetentionEngine
import RetentionRules
@testable import RetentionStores
import Testing
import TestSupport

/// Delete jobs on a PostgreSQL table partitioned by month on its anchor, in a real server.
///
/// The scenarios come from the Konica Minolta Belgium policy (§8.4.2): Dynatrace monitoring data
/// are kept 35 days (`kmbe-dynatrace`). At 2026-04-15 12:00 UTC a record of 2026-03-11 12:00 or earlier is due:
/// January and February are due whole, March is cut through, April is not due, and rows dated
/// before every partition sit in the default partition.
@Suite("Partitions", .serialized)
struct PartitionTests {
    static let now = utc("2026-04-15 12:00:00")

    static let rules = """
        version: 1
        defaults: {timezone: UTC}
        rules:
          kmbe-dynatrace:
            kind: purpose
            retain: 35d
            from: dynatrace_data_collected_at
            then: delete
            basis: consent, to measure the website's performance (§8.4.2)
          incident-evidence:
            kind: obligation
            retain: 1y
            from: dynatrace_data_collected_at
            when: incident is not null
            then: delete
            basis: evidence of a security incident
        """

    /// One row a day at noon: January ids 1–31, February 32–59, March 60–90, April 91–105; ids
    /// 200–202 in June 2025, in the default partition. `partitionBy` other than the anchor makes a
    /// table partitioned by id instead.
    static func create(byID: Bool = false) throws {
        try Self.psql("DROP TABLE IF EXISTS dynatrace CASCADE; DROP TABLE IF EXISTS dynatrace_2026_01, dynatrace_2026_02 CASCADE")
        if byID {
            try Self.psql("""
                CREATE TABLE dynatrace (id bigint, collected_at timestamptz NOT NULL, incident text, PRIMARY KEY (id)) PARTITION BY RANGE (id);
                CREATE TABLE dynatrace_low PARTITION OF dynatrace FOR VALUES FROM (0) TO (60);
                CREATE TABLE dynatrace_high PARTITION OF dynatrace FOR VALUES FROM (60) TO (1000);
                """)
        } else {
            var sql = "CREATE TABLE dynatrace (id bigint, collected_at timestamptz NOT NULL, incident text, PRIMARY KEY (id, collected_at)) PARTITION BY RANGE (collected_at);\n"
            for (month, next) in [("01", "02"), ("02", "03"), ("03", "04"), ("04", "05")] {
                sql += "CREATE TABLE dynatrace_2026_\(month) PARTITION OF dynatrace FOR VALUES FROM ('2026-\(month)-01 00:00:00+00') TO ('2026-\(next)-01 00:00:00+00');\n"
            }
            sql += "CREATE TABLE dynatrace_default PARTITION OF dynatrace DEFAULT;\n"
            try Self.psql(sql)
        }
        try Self.psql("""
            CREATE INDEX ON dynatrace (collected_at);
            INSERT INTO dynatrace SELECT g, timestamptz '2026-01-01 12:00:00+00' + (g - 1) * interval '1 day', NULL FROM generate_series(1, 105) g;
            INSERT INTO dynatrace SELECT g, timestamptz '2025-06-01 12:00:00+00', NULL FROM generate_series(200, 202) g;
            """)
    }

    static func stores(_ dsn: String, _ setting: String? = nil, rules: String = "[kmbe-dynatrace, incident-evidence]") -> String {
        """
        version: 1
        stores:
          web:
            kind: postgres
            dsn: \(dsn)
            datasets:
              dynatrace:
                table: dynatrace
                key: id
                rules: \(rules)
                fields: {dynatrace_data_collected_at: collected_at, incident: incident}
        \(setting.map { "        \($0)" } ?? "")
        """
    }

    static func engine(_ fixture: Fixture, password: String) throws -> Engine {
        var engine = try fixture.engine { $0.maxDeleteShare = 1; $0.batchSize = 4 }
        engine.connector = StoreConnectors(postgresPasswordFile: password)
        return engine
    }

    /// The marker a taken partition enters the key digest as.
    static func marker(_ name: String, rows: Int) throws -> RecordKey {
        let oid = try Self.psql("SELECT 'public.\(name)'::regclass::oid")
        return PartitionMarker(oid: Int64(oid) ?? -1, rows: rows, name: "public.\(name)").key
    }

    static func attached() throws -> [String] {
        try Self.psql("SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'dynatrace'::regclass")
            .split(separator: " ").map(String.init)
    }

    static func ids(_ table: String = "dynatrace") throws -> [Int] {
        try Self.psql("SELECT string_agg(id::text, ' ' ORDER BY id) FROM \(table)").split(separator: " ").compactMap { Int($0) }
    }

    @Test("whole due partitions are dropped, the cut-through and default partitions go by rows; count and digest exact")
    func dropped() async throws {
        guard let (dsn, password) = Self.server() else { return }
        try Self.create()
        var digest = KeyDigest()
        digest.add([try Self.marker("dynatrace_2026_01", rows: 31), try Self.marker("dynatrace_2026_02", rows: 28)])
        digest.add(((60...70).map { Int64($0) } + [200, 201, 202]).map(RecordKey.integer))
        let fixture = Fixture(rules: Self.rules, stores: Self.stores(dsn))
        let engine = try Self.engine(fixture, password: password)
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.doneCount) == [73])
        #expect(try Self.attached() == ["dynatrace_2026_03", "dynatrace_2026_04", "dynatrace_default"])
        #expect(try Self.psql("SELECT count(*) FROM pg_class WHERE relname IN ('dynatrace_2026_01', 'dynatrace_2026_02')") == "0")
        #expect(try Self.ids() == Array(71...105))
        let audit = try engine.database.auditRecords()
        #expect(audit.map(\.count) == [73])
        #expect(audit.first?.keysSHA256 == digest.hex)
        #expect(try engine.database.verifyAudit().problems.isEmpty)
        let again = try await engine.runPass(at: Self.now.addingTimeInterval(60))
        #expect(again.finished.isEmpty)
    }

    @Test("with the anchor test alone, the due partitions' rows are counted, not checked: the same rows go, count and digest exact")
    func anchorAlone() async throws {
        guard let (dsn, password) = Self.server() else { return }
        try Self.create()
        var digest = KeyDigest()
        digest.add([try Self.marker("dynatrace_2026_01", rows: 31), try Self.marker("dynatrace_2026_02", rows: 28)])
        digest.add(((60...70).map { Int64($0) } + [200, 201, 202]).map(RecordKey.integer))
        let engine = try Self.engine(Fixture(rules: Self.rules, stores: Self.stores(dsn, rules: "[kmbe-dynatrace]")), password: password)
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.doneCount) == [73])
        // A guard share of 100% needs 74 records for 73 due: the 108 rows were counted no further.
        #expect(report.finished.map(\.datasetTotal) == [nil])
        #expect(try Self.attached() == ["dynatrace_2026_03", "dynatrace_2026_04", "dynatrace_default"])
        #expect(try Self.ids() == Array(71...105))
        let audit = try engine.database.auditRecords()
        #expect(audit.map(\.count) == [73])
        #expect(audit.first?.keysSHA256 == digest.hex)
    }

    @Test("a partition's bound proves its rows due only for the anchor test alone: not with a hold on a record, a when:, another rule's condition, an open lower bound")
    func everyRowDueOnlyForAnchorAlone() async throws {
        guard let (dsn, password) = Self.server() else { return }
        try Self.create()
        try Self.psql("CREATE TABLE dynatrace_old PARTITION OF dynatrace FOR VALUES FROM (MINVALUE) TO ('2025-01-01 00:00:00+00')")
        func predicate(rules: String = Self.rules, _ names: String) throws -> (DatasetPolicy, RecordPredicate) {
            let engine = try Self.engine(Fixture(rules: rules, stores: Self.stores(dsn, rules: names)), password: password)
            let policy = try #require(engine.policies.first)
            let stage = try #require(policy.stages(at: Self.now).first { $0.action == .delete && $0.rule.id == "kmbe-dynatrace" })
            return (policy, stage.predicate)
        }
        let (policy, alone) = try predicate("[kmbe-dynatrace]")
        let (_, obligation) = try predicate("[kmbe-dynatrace, incident-evidence]")
        let (_, condition) = try predicate(rules: Self.rules.replacingOccurrences(of: "    retain: 35d\n", with: "    retain: 35d\n    when: incident is null\n"),
                                           "[kmbe-dynatrace]")
        let held = alone && policy.excluding([Hold(id: 1, scope: .record(store: "web", dataset: "dynatrace", key: .integer(15)),
                                                   reason: "litigation", createdBy: "dpo", createdAt: Self.now)])
        let connection = try #require(try await StoreConnectors(postgresPasswordFile: password).connect(to: policy.store) as? PostgresConnection)
        func due(_ name: String, _ predicate: RecordPredicate) async throws -> Bool {
            let oid = try #require(Int64(try Self.psql("SELECT 'public.\(name)'::regclass::oid")))
            let partition = PartitionPlan.Partition(oid: oid, name: "public.\(name)", bound: "", rows: nil)
            let key = try #require(try await connection.attachedKey(partition, to: connection.table(policy.dataset)))
            return try await connection.everyRowDue(key, policy.dataset, predicate)
        }
        #expect(try await due("dynatrace_2026_01", alone))
        #expect(try await due("dynatrace_2026_02", alone))
        #expect(try await !due("dynatrace_2026_03", alone), "the cutoff cuts through it")
        #expect(try await !due("dynatrace_default", alone))
        #expect(try await !due("dynatrace_old", alone), "rows before year 1 are bad values, never due")
        for (what, predicate) in [("a hold on a record", held), ("another rule's when:", obligation), ("the rule's when:", condition)] {
            #expect(try await !due("dynatrace_2026_01", predicate), "\(what)")
        }
        // The guard's bounded count: what is asked for, or every row when fewer.
        #expect(try await connection.total(policy.dataset, upTo: 5) == 5)
        #expect(try await connection.total(policy.dataset, upTo: 1_000) == 108)
        await connection.close()
    }

    @Test("partitions: detach keeps the table out of the dataset; a held record keeps its partition and is all that is left of it")
    func detachedAndHeld() async throws {
        guard let (dsn, password) = Self.server() else { return }
        try Self.create()
        let fixture = Fixture(rules: Self.rules, stores: Self.stores(dsn, "partitions: detach"))
        let engine = try Self.engine(fixture, password: password)
        _ = try engine.database.addHold(.record(store: "web", dataset: "dynatrace", key: .integer(15)), reason: "litigation", by: "dpo", at: Self.now)
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.doneCount) == [72])
        #expect(try Self.attached() == ["dynatrace_2026_01", "dynatrace_2026_03", "dynatrace_2026_04", "dynatrace_default"])
        #expect(try Self.ids("dynatrace_2026_01") == [15])
        #expect(try Self.ids("dynatrace_2026_02") == Array(32...59))
        #expect(try Self.ids() == [15] + Array(71...105))
        #expect(try engine.database.auditRecords().map(\.count) == [72])
    }

    @Test("a partition whose rows are all due but one that a longer obligation keeps (its condition) is not dropped")
    func obligationKeepsOne() async throws {
        guard let (dsn, password) = Self.server() else { return }
        try Self.create()
        try Self.psql("UPDATE dynatrace SET incident = 'INC-7' WHERE id = 40")
        let fixture = Fixture(rules: Self.rules, stores: Self.stores(dsn))
        let engine = try Self.engine(fixture, password: password)
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.doneCount) == [72])
        #expect(try Self.attached() == ["dynatrace_2026_02", "dynatrace_2026_03", "dynatrace_2026_04", "dynatrace_default"])
        #expect(try Self.ids() == [40] + Array(71...105))
    }

    @Test("a table partitioned on another column than the anchor, or partitions: rows, go by rows")
    func otherColumnAndRows() async throws {
        guard let (dsn, password) = Self.server() else { return }
        try Self.create(byID: true)
        let fixture = Fixture(rules: Self.rules, stores: Self.stores(dsn))
        let engine = try Self.engine(fixture, password: password)
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.doneCount) == [73])
        #expect(try Self.psql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'dynatrace'::regclass") == "2")
        #expect(try Self.ids() == Array(71...105))

        try Self.create()
        let rowsOnly = Fixture(rules: Self.rules, stores: Self.stores(dsn, "partitions: rows"))
        let byRows = try await Self.engine(rowsOnly, password: password).runPass(at: Self.now)
        #expect(byRows.finished.map(\.doneCount) == [73])
        #expect(try Self.attached().count == 5)
        #expect(try Self.ids() == Array(71...105))
    }

    @Test("a partition drop a crash interrupted is settled by the partition's state: gone counts once, attached counts nothing")
    func settled() async throws {
        guard let (dsn, password) = Self.server() else { return }
        // A grace window leaves the job planned, not yet started, after the first pass.
        let later = Self.now.addingTimeInterval(2 * 86_400)
        for (taken, month, rows) in [(true, "01", 31), (false, "02", 28)] {
            try Self.create()
            let fixture = Fixture(rules: Self.rules, stores: Self.stores(dsn, "grace: 1d"))
            let engine = try Self.engine(fixture, password: password)
            _ = try await engine.runPass(at: Self.now)
            let job = try #require(try engine.database.jobs(in: [.planned]).first)
            // As if killed after the drop's commit (the partition gone) or before it (still attached).
            try engine.database.beginBatch(of: job.id, keys: [try Self.marker("dynatrace_2026_\(month)", rows: rows)])
            if taken { try Self.psql("ALTER TABLE dynatrace DETACH PARTITION dynatrace_2026_\(month); DROP TABLE dynatrace_2026_\(month)") }
            let report = try await engine.runPass(at: later)
            #expect(report.finished.map(\.doneCount) == [73], "taken: \(taken)")
            #expect(try Self.ids() == Array(71...105))
            #expect(try engine.database.auditRecords().map(\.count) == [73])
            #expect(try Self.attached() == ["dynatrace_2026_03", "dynatrace_2026_04", "dynatrace_default"])
        }
    }

    @Test("a partition whose DETACH does not get its lock in time, after it was recorded, is settled at once and goes by rows")
    func lockNotGranted() async throws {
        guard let (dsn, password) = Self.server() else { return }
        try Self.create()
        // DETACH locks the default partition too: held here longer than the lock timeout.
        let blocker = Process()
        blocker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        blocker.arguments = ["psql", "-X", "-q", "-c", "BEGIN; LOCK TABLE dynatrace_default IN ACCESS SHARE MODE; SELECT pg_sleep(30)"]
        blocker.standardOutput = FileHandle.nullDevice
        try blocker.run()
        defer {
            _ = try? Self.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()")
            blocker.waitUntilExit()
        }
        var locked = false
        for _ in 0..<100 where !locked {
            usleep(20_000)
            locked = try Self.psql("SELECT count(*) FROM pg_locks WHERE relation = 'dynatrace_default'::regclass AND granted") != "0"
        }
        #expect(locked)
        let fixture = Fixture(rules: Self.rules, stores: Self.stores(dsn))
        let engine = try Self.engine(fixture, password: password)
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.doneCount) == [73])
        #expect(report.finished.map(\.state) == [.done])
        #expect(try Self.attached().count == 5)
        #expect(try Self.ids() == Array(71...105))
        #expect(try engine.database.auditRecords().map(\.count) == [73])
        var digest = KeyDigest()
        digest.add(((1...70).map { Int64($0) } + [200, 201, 202]).map(RecordKey.integer))
        #expect(try engine.database.auditRecords().first?.keysSHA256 == digest.hex)
    }

    @Test("the plan names the partitions taken whole and why the others go by rows")
    func plan() async throws {
        guard let (dsn, password) = Self.server() else { return }
        try Self.create()
        try Self.psql("UPDATE dynatrace SET incident = 'INC-7' WHERE id = 40")
        let fixture = Fixture(rules: Self.rules, stores: Self.stores(dsn))
        let engine = try Self.engine(fixture, password: password)
        let lines = try await engine.partitionPaths(at: Self.now)
        let text = lines.map(\.text).joined(separator: "\n")
        #expect(text.contains("whole partition (dropped): public.dynatrace_2026_01 FOR VALUES FROM ('2026-01-01 00:00:00+00') TO ('2026-02-01 00:00:00+00'), 31 rows"))
        #expect(text.contains("rows: public.dynatrace_2026_02"), "\(text)")
        #expect(text.contains("1 of its 28 rows must stay"))
        #expect(text.contains("rows: public.dynatrace_2026_03 FOR VALUES FROM ('2026-03-01 00:00:00+00') TO ('2026-04-01 00:00:00+00'): the cutoff cuts through it"))
        #expect(text.contains("rows: public.dynatrace_default DEFAULT: the default partition"))
        #expect(text.contains("1 partition not due yet"))
        #expect(try Self.attached().count == 5)
    }

    static func server() -> (String, String)? {
        let environment = ProcessInfo.processInfo.environment
        guard let dsn = environment["RETENTIOND_TEST_POSTGRES_DSN"], let password = environment["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"] else {
            #expect(environment["RETENTIOND_REQUIRE_POSTGRES"] != "1", "PostgreSQL required but scripts/with-postgres did not provide one")
            return nil
        }
        return (dsn, password)
    }

    @discardableResult
    static func psql(_ sql: String) throws -> String { try PostgresShell.psql(sql) }
}
