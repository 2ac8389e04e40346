import Foundation
import GRDB
import RetentionEngine
import RetentionRules
import RetentionStores
import Testing

/// The job engine against a real SQLite file: actions, guards, holds, locks, audit.
@Suite("Engine on SQLite")
struct EngineTests {
    static let rules = """
        version: 1
        defaults: {timezone: Europe/Brussels}
        rules:
          short:
            retain: 30d
            from: created_at
            then: delete
            basis: test
          tracking:
            from: visited_at
            basis: test
            stages:
              - {after: 7d, then: anonymize}
              - {after: 90d, then: delete}
          objection:
            retain: 0d
            from: objected_at
            then: restrict
            basis: test
          forbidden:
            retain: none
            from: captured_at
            basis: must never be stored
          reviewed:
            retain: 30d
            from: created_at
            then: delete
            review: required
            basis: test
          locked:
            retain: 1y
            from: created_at
            then: delete
            lock: true
            basis: test
        """

    static func stores(_ rule: String, extra: String = "") -> String {
        """
        version: 1
        stores:
          crm:
            kind: sqlite
            path: store.sqlite
            datasets:
              records:
                table: records
                key: id
                rules: [\(rule)]
                fields: {created_at: created_at, visited_at: created_at, objected_at: objected_at, captured_at: created_at}
                anonymize: {ip: truncate-ip, email: hmac-sha256, name: "null", born: month}
                anonymized-at: anonymized_at
                restrict: restricted_at
        \(extra)
        """
    }

    static let now = utc("2026-03-31 12:00:00")

    /// 100 records, one a day back from `now`; ids 1…100, id = age in days. Days are calendar days
    /// in Brussels and DST began on 29 March: the record created 30 × 24 h ago (13:00 CET) is due at
    /// 13:00 CEST today = 11:00 UTC, before `now` — so a `30d` rule takes ages 30…100.
    static func seed(_ fixture: Fixture) throws -> DatabaseQueue {
        try fixture.database { db in
            try db.execute(sql: """
                CREATE TABLE records (id INTEGER PRIMARY KEY, created_at TEXT, objected_at TEXT, ip TEXT, email TEXT, name TEXT,
                                      born TEXT, anonymized_at TEXT, restricted_at TEXT);
                CREATE INDEX records_created_at ON records(created_at);
                """)
            for age in 1...100 {
                let created = SQLiteTimeText.text(now.addingTimeInterval(-Double(age) * 86_400))
                try db.execute(sql: "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                               arguments: [age, created, age % 10 == 0 ? created : nil, age % 2 == 0 ? "192.0.2.\(age)" : "2001:db8:\(age):1::5",
                                           "user\(age)@example.com", "Name \(age)", "1980-05-17"])
            }
        }
    }

    @Test("delete: exactly the records past 30 days go, counted, audited; a second pass is idempotent")
    func deleteAndIdempotence() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores("short"))
        let queue = try Self.seed(fixture)
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.state) == [.done])
        #expect(report.finished.first?.doneCount == 71)
        #expect(try keys(queue) == Set(1...29))
        let again = try await engine.runPass(at: Self.now)
        #expect(again.finished.isEmpty)
        #expect(try keys(queue).count == 29)
        let audit = try engine.database.verifyAudit()
        #expect(audit.records == 1 && audit.problems.isEmpty)
        var digest = KeyDigest()
        digest.add((30...100).map { RecordKey.integer(Int64($0)) })
        #expect(try engine.database.auditRecords().first?.keysSHA256 == digest.hex)
    }

    @Test("--dry-run changes neither the store nor the state database")
    func dryRunIsDry() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores("tracking"))
        _ = try Self.seed(fixture)
        let before = try Data(contentsOf: URL(fileURLWithPath: fixture.databasePath))
        let engine = try fixture.engine { $0.dryRun = true; $0.maxDeleteShare = 1 }
        let report = try await engine.runPass(at: Self.now)
        #expect(report.wouldPlan.map(\.due) == [94, 11])
        #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.databasePath)) == before)
        #expect(try engine.database.jobs().isEmpty)
        #expect(try engine.database.lastPassClock() == nil)
    }

    @Test("the mass-deletion guard holds a big job until approved")
    func massDeletionGuard() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores("short"))
        let queue = try Self.seed(fixture)
        let engine = try fixture.engine()
        let first = try await engine.runPass(at: Self.now)
        #expect(first.finished.isEmpty)
        #expect(first.waiting.map(\.state) == [.awaitingApproval])
        #expect(first.waiting.first?.reason?.contains("71 of 100") == true)
        #expect(try keys(queue).count == 100)
        // A pass before anyone decides still reports the job as waiting, and plans no second one.
        let undecided = try await engine.runPass(at: Self.now.addingTimeInterval(30))
        #expect(undecided.waiting.map(\.id) == [first.waiting[0].id])
        #expect(try keys(queue).count == 100)
        _ = try await engine.database.approve(first.waiting[0].id, by: "dpo", at: Self.now)
        let second = try await engine.runPass(at: Self.now.addingTimeInterval(60))
        #expect(second.finished.map(\.doneCount) == [71])
        #expect(try keys(queue).count == 29)
    }

    @Test("the guard counts the dataset only as far as its share needs: the job's total exact below that, absent above; its edge decides as before")
    func guardCountsEnough() async throws {
        // 71 of 100 records due: a share of 71% needs 101 records for them, 70% needs 102 (the
        // dataset's 100 are fewer: counted exactly), 100% needs 72 (counted no further).
        for (share, state, total) in [(0.71, Job.State.done, 100), (0.70, .awaitingApproval, 100), (1.0, .done, nil)] as [(Double, Job.State, Int?)] {
            let fixture = Fixture(rules: Self.rules, stores: Self.stores("short"))
            let queue = try Self.seed(fixture)
            let engine = try fixture.engine { $0.maxDeleteShare = share }
            _ = try await engine.runPass(at: Self.now)
            let job = try #require(try engine.database.jobs().first)
            #expect(job.state == state, "share \(share)")
            #expect(job.datasetTotal == total, "share \(share)")
            #expect(job.plannedCount == 71)
            #expect(try keys(queue).count == (state == .done ? 29 : 100), "share \(share)")
            if state == .awaitingApproval { #expect(job.reason?.contains("71 of 100") == true, "\(job.reason ?? "")") }
        }
    }

    @Test("at a share of 100% the guard counts nothing beyond the due records, and its count limit still holds a big job back")
    func guardCountLimitAtFullShare() async throws {
        let stores = Self.stores("short").replacingOccurrences(of: "restrict: restricted_at",
                                                                with: "restrict: restricted_at\n        max-delete-share: 100%\n        max-delete-count: 50")
        let fixture = Fixture(rules: Self.rules, stores: stores)
        let queue = try Self.seed(fixture)
        let engine = try fixture.engine()
        let report = try await engine.runPass(at: Self.now)
        let job = try #require(report.waiting.first)
        #expect(job.state == .awaitingApproval && job.plannedCount == 71 && job.datasetTotal == nil, "\(job)")
        #expect(job.reason?.contains("more than the guard's 50") == true, "\(job.reason ?? "")")
        #expect(try keys(queue).count == 100)
    }

    @Test("review: required waits for approval even for a small job")
    func reviewRequired() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores("reviewed"))
        _ = try Self.seed(fixture)
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        let report = try await engine.runPass(at: Self.now)
        #expect(report.waiting.first?.state == .awaitingApproval)
        #expect(report.waiting.first?.reason?.contains("review") == true)
    }

    @Test("a grace window leaves the job cancellable; cancel stops it and is audited")
    func graceAndCancel() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores("short").replacingOccurrences(of: "restrict: restricted_at", with: "restrict: restricted_at\n        grace: 2d"))
        let queue = try Self.seed(fixture)
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        let report = try await engine.runPass(at: Self.now)
        let job = try #require(report.waiting.first)
        #expect(job.state == .planned)
        #expect(job.notBefore == Self.now.addingTimeInterval(2 * 86_400))
        // Still inside the window: nothing happens.
        _ = try await engine.runPass(at: Self.now.addingTimeInterval(86_400))
        #expect(try keys(queue).count == 100)
        _ = try await engine.database.cancel(job.id, by: "dpo", at: Self.now)
        #expect(try engine.database.job(job.id)?.state == .cancelled)
        await #expect(throws: DecisionError.self) { try await engine.database.cancel(job.id, by: "dpo", at: Self.now) }
        #expect(try engine.database.auditRecords().map(\.outcome) == ["cancelled"])
    }

    @Test("refuses to act when the clock is earlier than the last pass")
    func clockBackwards() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores("short"))
        let queue = try Self.seed(fixture)
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        _ = try await engine.runPass(at: Self.now)
        try await queue.write { db in try db.execute(sql: "INSERT INTO records (id, created_at) VALUES (1000, '2020-01-01 00:00:00')") }
        await #expect(throws: EngineError.self) { _ = try await engine.runPass(at: Self.now.addingTimeInterval(-3600)) }
        #expect(try keys(queue).contains(1000))
    }

    @Test("holds: a held record, dataset or store is never touched; release lets it go")
    func holds() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores("short"))
        let queue = try Self.seed(fixture)
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        let store = try engine.database.addHold(.store("crm"), reason: "case 1", by: "legal", at: Self.now)
        var report = try await engine.runPass(at: Self.now)
        #expect(report.heldDatasets.count == 1 && report.finished.isEmpty)
        _ = try engine.database.releaseHold(store.id, by: "legal", at: Self.now)
        _ = try engine.database.addHold(.record(store: "crm", dataset: "records", key: .integer(50)), reason: "case 2", by: "legal", at: Self.now)
        report = try await engine.runPass(at: Self.now.addingTimeInterval(1))
        #expect(report.finished.first?.doneCount == 70)
        #expect(try keys(queue) == Set(1...29).union([50]))
        let explanation = try #require(try await engine.explain(store: "crm", dataset: "records", key: .integer(50), at: Self.now))
        #expect(explanation.holds.count == 1)
    }

    @Test("anonymize: strategies applied once, marker set; the next pass finds nothing to do")
    func anonymize() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores("tracking"))
        let queue = try Self.seed(fixture)
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.action) == [.anonymize, .delete])
        #expect(report.finished.map(\.doneCount) == [94, 11])
        let fetched = try queue.read { db in try Row.fetchOne(db, sql: "SELECT * FROM records WHERE id = 8") }
        let row = try #require(fetched)
        #expect(row["ip"] as String == "192.0.2.0")
        #expect((row["email"] as String).count == 64)
        #expect(row["name"] as String? == nil)
        #expect(row["born"] as String == "1980-05-01")
        #expect(row["anonymized_at"] as String? != nil)
        let v6 = try await queue.read { db in try String.fetchOne(db, sql: "SELECT ip FROM records WHERE id = 9") }
        #expect(v6 == "2001:db8:9::")
        let untouched = try await queue.read { db in try String.fetchOne(db, sql: "SELECT email FROM records WHERE id = 6") }
        #expect(untouched == "user6@example.com")
        let again = try await engine.runPass(at: Self.now.addingTimeInterval(1))
        #expect(again.finished.isEmpty)
    }

    @Test("restrict sets the column; retain: none deletes everything found, as a violation")
    func restrictAndNone() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores("objection, forbidden"))
        let queue = try Self.seed(fixture)
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.action) == [.restrict, .delete])
        #expect(report.finished.first?.doneCount == 10)
        #expect(report.finished.last?.isViolation == true)
        #expect(try keys(queue).isEmpty)
    }

    @Test("a locked rule cannot be shortened or removed by a later rules file")
    func locks() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores("locked"))
        _ = try Self.seed(fixture)
        _ = try await fixture.engine { $0.maxDeleteShare = 1 }.runPass(at: Self.now)
        var shorter = fixture
        shorter.rulesText = Self.rules.replacingOccurrences(of: "retain: 1y\n    from: created_at\n    then: delete\n    lock: true",
                                                            with: "retain: 6mo\n    from: created_at\n    then: delete\n    lock: true")
        #expect(shorter.rulesText != Self.rules)
        let engine = try shorter.engine { $0.maxDeleteShare = 1 }
        await #expect(throws: EngineError.self) { _ = try await engine.runPass(at: Self.now.addingTimeInterval(1)) }
        var longer = fixture
        longer.rulesText = Self.rules.replacingOccurrences(of: "retain: 1y\n    from: created_at\n    then: delete\n    lock: true",
                                                           with: "retain: 2y\n    from: created_at\n    then: delete\n    lock: true")
        _ = try await longer.engine { $0.maxDeleteShare = 1 }.runPass(at: Self.now.addingTimeInterval(2))
    }

    @Test("audit verify detects altered, inserted and removed records")
    func auditTampering() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores("short, objection"))
        _ = try Self.seed(fixture)
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        _ = try await engine.runPass(at: Self.now)
        #expect(try engine.database.verifyAudit().problems.isEmpty)
        let state = try DatabaseQueue(path: fixture.statePath)
        await #expect(throws: DatabaseError.self) { try await state.write { db in try db.execute(sql: "UPDATE audit SET count = 1") } }
        // Someone with the file drops the guards and edits: verify must notice each kind of change.
        try await state.write { db in try db.execute(sql: "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete") }
        try await state.write { db in try db.execute(sql: "UPDATE audit SET count = count + 1 WHERE sequence = 1") }
        #expect(try engine.database.verifyAudit().problems.map(\.message).contains { $0.contains("altered") })
        try await state.write { db in try db.execute(sql: "UPDATE audit SET count = count - 1 WHERE sequence = 1") }
        #expect(try engine.database.verifyAudit().problems.isEmpty)
        try await state.write { db in try db.execute(sql: "DELETE FROM audit WHERE sequence = 2") }
        #expect(try engine.database.verifyAudit().problems.map(\.message).contains { $0.contains("removed") })
        try await state.write { db in
            try db.execute(sql: """
                INSERT INTO audit SELECT 2, job, rule, store, dataset, stage, action, outcome, cutoff, 5, started_at, finished_at,
                                         keys_sha256, hash, hash, note, mac FROM audit WHERE sequence = 1
                """)
        }
        #expect(!(try engine.database.verifyAudit().problems.isEmpty))
    }
}
