import Foundation
import GRDB
import Logging
@testable import RetentionEngine
import RetentionRules
import RetentionStores
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
import TestSupport
#endif

/// Issue 12 item 3: one value in a table or one file's time must not stop retention. Each attack
/// from the review — a file dated 10^13 s (tmpfs allows it), a REAL anchor of `Inf` or `1e300`, an
/// INTEGER anchor holding microseconds, `month` anonymization of `Inf`, PostgreSQL `-infinity` —
/// is run against the real store: the pass completes, the good records are handled, the bad ones
/// are never due, and each is reported once with store, dataset, key and column.
@Suite("Bad values", .serialized)
struct BadValueTests {
    static let now = Date(timeIntervalSince1970: 1_795_176_000)      // 2026-11-20T12:00:00Z
    static let rules = """
        version: 1
        defaults: {timezone: UTC}
        rules:
          events:
            kind: purpose
            retain: 30d
            from: created_at
            then: delete
            basis: test
          birthdays:
            kind: purpose
            retain: 1d
            from: created_at
            then: anonymize
            basis: test
        """

    func engine(_ fixture: Fixture, capture: RuleKindsTests.Capture, connector: StoreConnectors = StoreConnectors()) throws -> Engine {
        var engine = try fixture.engine { $0.maxDeleteShare = 1 }
        engine.connector = connector
        engine.logger = Logger(label: "test") { _ in capture }
        return engine
    }

    @Test("SQLite: REAL Inf, -Inf, 1e300, -1e300, INTEGER microseconds and endless fractions are never due, reported once; month of Inf is null")
    func sqlite() async throws {
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              app:
                kind: sqlite
                path: store.sqlite
                datasets:
                  seconds:
                    table: seconds
                    key: id
                    rules: [events]
                    fields: {created_at: created}
                  texts:
                    table: texts
                    key: id
                    rules: [events]
                    fields: {created_at: created}
                  people:
                    table: people
                    key: id
                    rules: [birthdays]
                    fields: {created_at: created}
                    anonymize: {born: month}
                    anonymized-at: anonymized_at
            """)
        let old = Self.now.timeIntervalSince1970 - 90 * 86_400
        let queue = try fixture.database { db in
            try db.execute(sql: """
                CREATE TABLE seconds (id INTEGER PRIMARY KEY, created REAL);
                CREATE TABLE texts (id INTEGER PRIMARY KEY, created TEXT);
                CREATE TABLE people (id INTEGER PRIMARY KEY, created INTEGER, born REAL, anonymized_at TEXT);
                """)
            // 1: due; 2: +Inf; 3: -Inf; 4: 1e300; 5: -1e300; 6: microseconds; 7: not yet due.
            for (id, value) in [(1, old), (2, .infinity), (3, -.infinity), (4, 1e300), (5, -1e300), (6, old * 1e6), (7, Self.now.timeIntervalSince1970)] {
                try db.execute(sql: "INSERT INTO seconds VALUES (?, ?)", arguments: [id, value])
            }
            try db.execute(sql: """
                INSERT INTO texts VALUES (1, '2026-01-01 10:00:00'), (2, '0000-00-00 00:00:00'),
                    (3, '2026-01-01 10:00:00.123456789012345678901234567890'), (4, 'yesterday');
                INSERT INTO people VALUES (1, 1, ?, NULL), (2, 1, ?, NULL), (3, 1, -1e300, NULL);
                """, arguments: [old, Double.infinity])
        }
        let capture = RuleKindsTests.Capture()
        let engine = try engine(fixture, capture: capture)
        let plan = try await engine.plan(at: Self.now)
        #expect(plan.entries.map(\.due) == [1, 2, 3])
        _ = try await engine.runPass(at: Self.now)
        #expect(try keys(queue, "seconds") == [2, 3, 4, 5, 6, 7])
        // The endless fraction is a time (read to the microsecond); the zero date and prose are not.
        #expect(try keys(queue, "texts") == [2, 4])
        let born = try await queue.read { db in try Row.fetchAll(db, sql: "SELECT id, born FROM people ORDER BY id").map { ($0[0] as Int64, $0[1] as Double?) } }
        #expect(born.map(\.0) == [1, 2, 3] && born[1].1 == nil && born[2].1 == nil, "\(born)")
        #expect(born[0].1 == 1_785_542_400, "2026-08-22T12:00Z generalised to 2026-08-01T00:00Z: \(born)")

        // Each bad record is named once, with its key and column.
        let reports = capture.events(.badValue)
        let named = Set(reports.compactMap { entry in entry.metadata["key"].map { "\(entry.metadata["dataset"]!)/\($0)/\(entry.metadata["column"]!)" } })
        #expect(named == ["seconds/2/created", "seconds/3/created", "seconds/4/created", "seconds/5/created", "seconds/6/created",
                          "texts/2/created", "texts/4/created"], "\(reports.map(\.message))")
        #expect(reports.allSatisfy { $0.metadata["store"] == "app" })
        _ = try await engine.runPass(at: Self.now.addingTimeInterval(1))
        #expect(capture.events(.badValue).count == reports.count, "reported once")

        // explain reads a bad anchor as no time: kept, never due.
        let explained = try #require(try await engine.explain(store: "app", dataset: "seconds", key: .integer(2), at: Self.now))
        #expect(explained.verdicts.first?.anchor == nil)
        #expect(explained.decision.outcome == .kept(by: "events", until: nil))
    }

    @Test("no conversion of a time traps: extremes, infinities and NaN are formatted, compared and refused as times")
    func conversions() throws {
        let extremes: [Double] = [.infinity, -.infinity, .nan, 1e300, -1e300, 9.3e12, -9.3e12, 1e13, Double(Int64.max), Double(Int64.min),
                                  -62_135_596_801, 253_402_300_800]
        for seconds in extremes {
            let date = Date(timeIntervalSince1970: seconds)
            _ = InstantText.format(date)
            _ = SQLiteTimeText.cutoff(date)
            #expect(SQLiteCodec().instant(.real(seconds)) == nil, "\(seconds)")
            #expect(SQLiteCodec().instant(.date(date)) == nil, "\(seconds)")
            #expect(try Anonymizer.apply(.month, to: .real(seconds), key: nil) == .null, "\(seconds)")
            #expect(RecordPredicate.before(columns: ["c"], cutoff: Self.now).evaluate(["c": .real(seconds)], codec: SQLiteCodec()) != true, "\(seconds)")
            #expect(RecordPredicate.unrepresentable("c").evaluate(["c": .real(seconds)], codec: SQLiteCodec()) != false, "\(seconds)")
        }
        for micros in [Int64.max, Int64.min, Int64.max / 1_000_000 + 1] {
            #expect(SQLiteCodec().instant(.integer(micros)) == nil)
            _ = try Anonymizer.apply(.month, to: .integer(micros), key: nil)
        }
        #expect(SQLiteTimeText.parse("2026-01-01 10:00:00." + String(repeating: "9", count: 40)) == SQLiteTimeText.parse("2026-01-01 10:00:00.999999"))
        #expect(SQLiteCodec().instant(.text("0000-00-00 00:00:00")) == nil)
    }

    @Test("grace: 100000y is a located error; the longest grace allowed (1000y) is written and read back, and the job can be cancelled")
    func longestGrace() async throws {
        let stores = { (grace: String) in """
            version: 1
            stores:
              app:
                kind: sqlite
                path: store.sqlite
                datasets:
                  seconds: {table: seconds, key: id, rules: [events], fields: {created_at: created}, grace: \(grace)}
            """ }
        let rules = RuleSet.merge([(file: "rules.yaml", text: Self.rules)]).ruleSet
        let refused = StoreSet.merge([(file: "stores.yaml", text: stores("100000y"))], rules: rules)
        #expect(refused.diagnostics.errors.map(\.description) == [
            "stores.yaml:7:97: error: 'grace': '100000y' is longer than 1000 years: no period retentiond computes may be; "
                + "for data kept indefinitely write 'forever'"])
        let fixture = Fixture(rules: Self.rules, stores: stores("1000y"))
        _ = try fixture.database { db in
            try db.execute(sql: "CREATE TABLE seconds (id INTEGER PRIMARY KEY, created REAL); INSERT INTO seconds VALUES (1, 1000)")
        }
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        let report = try await engine.runPass(at: Self.now)
        let job = try #require(report.waiting.first)
        #expect(try engine.database.jobs().map(\.notBefore) == [job.notBefore])
        #expect(InstantText.format(job.notBefore) == "3026-11-20T12:00:00Z")
        #expect(try await engine.database.cancel(job.id, by: "dpo", at: Self.now).state == .cancelled)
    }

    @Test("a job row with an action this version does not know fails, audited as written, instead of becoming a delete; a settled batch is logged as batch-settled")
    func unreadableJobRow() async throws {
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              app:
                kind: sqlite
                path: store.sqlite
                datasets:
                  seconds: {table: seconds, key: id, rules: [events], fields: {created_at: created}}
            """)
        let queue = try fixture.database { db in
            try db.execute(sql: "CREATE TABLE seconds (id INTEGER PRIMARY KEY, created REAL); INSERT INTO seconds VALUES (1, 1000), (2, 2000)")
        }
        let capture = RuleKindsTests.Capture()
        let engine = try engine(fixture, capture: capture)
        let stage = try #require(engine.policies.first?.stages(at: Self.now).first)
        func job(_ state: Job.State) -> Job {
            Job(id: 0, store: "app", dataset: "seconds", rule: "events", stage: 0, action: .delete, isViolation: false, cutoff: stage.cutoff,
                predicate: stage.predicate, state: state, plannedAt: Self.now, notBefore: Self.now, plannedCount: 2, datasetTotal: 2,
                doneCount: 0, keysDigest: KeyDigest())
        }
        let strange = try engine.database.insert(job(.running))
        let state = try DatabaseQueue(path: fixture.statePath)
        try await state.write { db in try db.execute(sql: "UPDATE job SET action = 'purge' WHERE id = ?", arguments: [strange.id]) }
        // A crash left a batch of job 2 in flight: its keys are settled first, under their own event.
        let crashed = try engine.database.insert(job(.running))
        try engine.database.beginBatch(of: crashed.id, keys: [.integer(1)])
        let report = try await engine.runPass(at: Self.now)
        let failed = try #require(report.finished.first { $0.id == strange.id })
        #expect(failed.state == .failed && failed.doneCount == 0)
        #expect(failed.reason == "the state database holds an action this retentiond does not know: 'purge'")
        let audit = try #require(try engine.database.auditRecords().first { $0.job == strange.id })
        #expect(audit.action == "purge" && audit.outcome == "failed")
        #expect(try engine.database.verifyAudit().problems.isEmpty)
        #expect(capture.events(.batchSettled).map { $0.metadata["job_id"] } == ["\(crashed.id)"])
        #expect(report.finished.first { $0.id == crashed.id }?.doneCount == 2)
        #expect(try keys(queue, "seconds").isEmpty)
    }

    @Test("SQLite: an application trigger cannot call the anonymization functions (no HMAC oracle); lint --live warns about the trigger")
    func triggerOracle() async throws {
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              app:
                kind: sqlite
                path: store.sqlite
                datasets:
                  people:
                    table: people
                    key: id
                    rules: [birthdays]
                    fields: {created_at: created}
                    anonymize: {email: hmac-sha256}
                    anonymized-at: anonymized_at
            """)
        let queue = try fixture.database { db in
            try db.execute(sql: """
                CREATE TABLE people (id INTEGER PRIMARY KEY, created INTEGER, email TEXT, anonymized_at TEXT);
                CREATE TABLE oracle (guess TEXT, pseudonym TEXT);
                INSERT INTO people VALUES (1, 1, 'bob@example.com', NULL);
                CREATE TRIGGER leak AFTER UPDATE ON people BEGIN
                    INSERT INTO oracle VALUES ('alice@example.com', retentiond_anonymize_0('alice@example.com'));
                END;
                """)
        }
        let engine = try engine(fixture, capture: RuleKindsTests.Capture())
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.first?.state == .failed, "\(report.finished)")
        #expect(report.finished.first?.reason?.contains("unsafe use of retentiond_anonymize_0") == true, "\(report.finished)")
        #expect(try await queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM oracle") } == 0, "no pseudonym left the store")
        #expect(try await queue.read { db in try String.fetchOne(db, sql: "SELECT email FROM people") } == "bob@example.com")
        let live = await LiveCheck(connector: StoreConnectors()).check(engine.stores, rules: engine.rules)
        #expect(live.map(\.message).contains { $0.hasPrefix("table 'people' has triggers (leak) and its dataset is anonymized") }, "\(live)")
    }

    @Test("the clock: a jump of 285 days ahead is refused before anything is deleted; 'clock accept' lets a correct clock through and sets aside passes run under a wrong one")
    func clockJump() async throws {
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              app:
                kind: sqlite
                path: store.sqlite
                datasets:
                  seconds: {table: seconds, key: id, rules: [events], fields: {created_at: created}}
            """)
        let day = 86_400.0, now = Self.now.timeIntervalSince1970
        // Record 1 is due now; 2 only 250 days from now.
        let queue = try fixture.database { db in
            try db.execute(sql: "CREATE TABLE seconds (id INTEGER PRIMARY KEY, created REAL); INSERT INTO seconds VALUES (1, ?), (2, ?)",
                           arguments: [now - 40 * day, now + 220 * day])
        }
        let engine = try engine(fixture, capture: RuleKindsTests.Capture())
        _ = try await engine.runPass(at: Self.now)
        #expect(try keys(queue, "seconds") == [2])
        // The clock jumps 285 days ahead: refused, record 2 untouched.
        await #expect {
            _ = try await engine.runPass(at: Self.now.addingTimeInterval(285 * day))
        } throws: { error in "\(error)".contains("285 days after the last pass") && "\(error)".contains("retentionctl clock accept") }
        #expect(try keys(queue, "seconds") == [2])
        // Someone accepts the wrong clock anyway; a pass runs under it and deletes record 2.
        _ = try engine.database.acceptClock(at: Self.now.addingTimeInterval(285 * day), by: "operator")
        _ = try await engine.runPass(at: Self.now.addingTimeInterval(285 * day + 60))
        #expect(try keys(queue, "seconds").isEmpty)
        // The clock is corrected: every pass refuses (earlier than the last) until the clock is accepted again.
        let corrected = Self.now.addingTimeInterval(2 * day)
        await #expect(throws: EngineError.self) { _ = try await engine.runPass(at: corrected) }
        #expect(try engine.database.acceptClock(at: corrected, by: "dpo") == 2)
        _ = try await engine.runPass(at: corrected.addingTimeInterval(1))
        let results = try await DatabaseQueue(path: fixture.statePath).read { db in
            try Row.fetchAll(db, sql: "SELECT result, voided_by FROM pass ORDER BY id").map { ($0["result"] as String?, $0["voided_by"] as String?) }
        }
        #expect(results.filter { $0.1 == "dpo" }.count == 2, "the accept and the pass under the wrong clock are set aside: \(results)")
        #expect(results.contains { $0.0?.hasPrefix("clock accepted by dpo; 2 later passes set aside") == true }, "\(results)")
    }

    @Test("an approval is bounded: a job approved for 12 records stops before deleting thousands back-dated after the approval, and waits again")
    func approvalBound() async throws {
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              app:
                kind: sqlite
                path: store.sqlite
                datasets:
                  seconds: {table: seconds, key: id, rules: [events], fields: {created_at: created}, max-delete-count: 10}
            """)
        let day = 86_400.0, old = Self.now.timeIntervalSince1970 - 40 * day
        let queue = try fixture.database { db in
            try db.execute(sql: "CREATE TABLE seconds (id INTEGER PRIMARY KEY, created REAL)")
            for id in 1...12 { try db.execute(sql: "INSERT INTO seconds VALUES (?, ?)", arguments: [id, old]) }
            for id in 13...20 { try db.execute(sql: "INSERT INTO seconds VALUES (?, ?)", arguments: [id, Self.now.timeIntervalSince1970]) }
        }
        var engine = try engine(fixture, capture: RuleKindsTests.Capture())
        engine.options.batchSize = 100
        let held = try #require(try await engine.runPass(at: Self.now).waiting.first)
        #expect(held.state == .awaitingApproval && held.plannedCount == 12)
        _ = try await engine.database.approve(held.id, by: "dpo", at: Self.now)
        // After the approval, 5,000 rows appear back-dated.
        try await queue.write { db in
            for id in 1_000...5_999 { try db.execute(sql: "INSERT INTO seconds VALUES (?, ?)", arguments: [id, old]) }
        }
        let report = try await engine.runPass(at: Self.now.addingTimeInterval(60))
        let again = try #require(try engine.database.job(held.id))
        #expect(again.state == .awaitingApproval, "\(report.finished)")
        #expect(again.plannedCount == 5_012 && again.reason?.contains("more than the 12 it was planned and approved for") == true, "\(again)")
        #expect(try keys(queue, "seconds").count == 5_020, "nothing deleted beyond the approval")
        // Approved again, for the new count: it finishes.
        _ = try await engine.database.approve(held.id, by: "dpo", at: Self.now.addingTimeInterval(120))
        let last = try await engine.runPass(at: Self.now.addingTimeInterval(180))
        #expect(last.finished.first { $0.id == held.id }?.doneCount == 5_012)
        #expect(try keys(queue, "seconds") == Set(13...20))
    }

    @Test("files: a file dated 10^13 s (tmpfs) is never due and does not stop the pass; the old file goes")
    func files() async throws {
        let root = "/dev/shm/retentiond-bad-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: root + ".probe", contents: nil) else { return }   // no tmpfs here
        try? FileManager.default.removeItem(atPath: root + ".probe")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (name, seconds) in [("old.log", Self.now.timeIntervalSince1970 - 90 * 86_400), ("future.log", 1e13), ("new.log", Self.now.timeIntervalSince1970)] {
            #expect(FileManager.default.createFile(atPath: root + "/" + name, contents: Data("x".utf8)))
            var times = [timespec(tv_sec: Int(seconds), tv_nsec: 0), timespec(tv_sec: Int(seconds), tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, root + "/" + name, &times, 0) == 0)
        }
        var info = stat()
        #expect(stat(root + "/future.log", &info) == 0 && info.st_mtim.tv_sec == 10_000_000_000_000, "tmpfs keeps the time")
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              logs:
                kind: files
                path: \(root)
                match: "*.log"
                rules: [events]
                fields: {created_at: mtime}
            """)
        let capture = RuleKindsTests.Capture()
        let engine = try engine(fixture, capture: capture)
        _ = try await engine.plan(at: Self.now)
        _ = try await engine.nextWake(after: Self.now)
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.doneCount) == [1])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).sorted() == ["future.log", "new.log"])
        #expect(capture.events(.badValue).compactMap { $0.metadata["key"] } == ["future.log"])
    }

    @Test("PostgreSQL: timestamptz -infinity and infinity, double precision Inf and microseconds are never due, reported")
    func postgres() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let dsn = environment["RETENTIOND_TEST_POSTGRES_DSN"], let password = environment["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"] else {
            #expect(environment["RETENTIOND_REQUIRE_POSTGRES"] != "1", "PostgreSQL required but scripts/with-postgres did not provide one")
            return
        }
        try PostgresShell.psql("""
            DROP TABLE IF EXISTS bad_stamps, bad_seconds;
            CREATE TABLE bad_stamps (id bigint PRIMARY KEY, created timestamptz);
            INSERT INTO bad_stamps VALUES (1, '2026-01-01 10:00:00+00'), (2, '-infinity'), (3, 'infinity'), (4, '0044-03-15 12:00:00 BC');
            CREATE TABLE bad_seconds (id bigint PRIMARY KEY, created double precision);
            INSERT INTO bad_seconds VALUES (1, 1767261600), (2, '-Infinity'), (3, 'Infinity'), (4, 1767261600000000), (5, 'NaN');
            """)
        let fixture = Fixture(rules: Self.rules, stores: """
            version: 1
            stores:
              pg:
                kind: postgres
                dsn: \(dsn)
                datasets:
                  stamps: {table: public.bad_stamps, key: id, rules: [events], fields: {created_at: created}}
                  seconds: {table: public.bad_seconds, key: id, rules: [events], fields: {created_at: created}}
            """)
        let capture = RuleKindsTests.Capture()
        let engine = try engine(fixture, capture: capture, connector: StoreConnectors(postgresPasswordFile: password))
        _ = try await engine.nextWake(after: Self.now)
        _ = try await engine.runPass(at: Self.now)
        #expect(try PostgresShell.psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM bad_stamps") == "2,3,4")
        #expect(try PostgresShell.psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM bad_seconds") == "2,3,4,5")
        let named = Set(capture.events(.badValue).compactMap { entry in entry.metadata["key"].map { "\(entry.metadata["dataset"]!)/\($0)" } })
        #expect(named.isSuperset(of: ["stamps/2", "stamps/3", "stamps/4", "seconds/2", "seconds/3", "seconds/4"]), "\(named)")
    }
}
