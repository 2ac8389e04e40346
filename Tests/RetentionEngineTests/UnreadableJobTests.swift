import Foundation
import GRDB
@testable import RetentionEngine
import RetentionRules
import Testing

/// Issue 13 item 7: a job row this version cannot read is never guessed at. Each row here is
/// written into a real state database the way a newer version, a hand edit or a broken disk
/// could leave it, under a job whose predicate would take every record; the pass must fail the
/// job with the reason, delete nothing for it, leave the row as written, and audit it.
///
/// The mass-deletion guard holds back the job a pass plans anew for the same stage, so that
/// every record still present after the pass shows that the unreadable job touched none.
@Suite("Unreadable job rows", .serialized)
struct UnreadableJobTests {
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
        """
    static let stores = """
        version: 1
        stores:
          app:
            kind: sqlite
            path: store.sqlite
            datasets:
              events: {table: events, key: id, rules: [events], fields: {created_at: created}}
        """

    /// An engine over a store of four due records, and a running job of the `events` stage
    /// whose row `corrupt` then rewrites in the state database; returns the job's id.
    func scenario(_ corrupt: String) async throws -> (Fixture, Engine, DatabaseQueue, Int64) {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores)
        let store = try fixture.database { db in
            try db.execute(sql: "CREATE TABLE events (id INTEGER PRIMARY KEY, created REAL); INSERT INTO events VALUES (1, 1000), (2, 2000), (3, 3000), (4, 4000)")
        }
        let engine = try fixture.engine()
        let stage = try #require(engine.policies.first?.stages(at: Self.now).first)
        let job = try engine.database.insert(Job(id: 0, store: "app", dataset: "events", rule: "events", stage: 0, action: .delete, isViolation: false,
                                              cutoff: stage.cutoff, predicate: .always, state: .running, plannedAt: Self.now,
                                              notBefore: Self.now, plannedCount: 4, datasetTotal: 4, doneCount: 0, keysDigest: KeyDigest()))
        try await DatabaseQueue(path: fixture.statePath).write { db in try db.execute(sql: corrupt, arguments: [job.id]) }
        return (fixture, engine, store, job.id)
    }

    func column(_ name: String, of job: Int64, in fixture: Fixture) async throws -> String? {
        try await DatabaseQueue(path: fixture.statePath).read { db in
            try String.fetchOne(db, sql: "SELECT CAST(\(name) AS TEXT) FROM job WHERE id = ?", arguments: [job])
        }
    }

    @Test("a job row whose action is 'frobnicate' fails with the reason, deletes nothing, and is audited as written")
    func unknownAction() async throws {
        let (fixture, engine, store, id) = try await scenario("UPDATE job SET action = 'frobnicate' WHERE id = ?")
        let listed = try #require(try engine.database.job(id))
        #expect(listed.unreadable == "the state database holds an action this retentiond does not know: 'frobnicate'")
        #expect(listed.action != .delete && listed.predicate == .never)
        let report = try await engine.runPass(at: Self.now)
        let failed = try #require(report.finished.first { $0.id == id })
        #expect(failed.state == .failed && failed.doneCount == 0)
        #expect(failed.reason == "the state database holds an action this retentiond does not know: 'frobnicate'")
        #expect(try keys(store, "events") == [1, 2, 3, 4], "nothing deleted for the unreadable job")
        #expect(report.waiting.map(\.state) == [.awaitingApproval], "the stage planned anew waits for approval")
        let audit = try #require(try engine.database.auditRecords().first { $0.job == id })
        #expect(audit.action == "frobnicate" && audit.outcome == "failed" && audit.count == 0)
        #expect(try engine.database.verifyAudit().problems.isEmpty)
        #expect(try await column("action", of: id, in: fixture) == "frobnicate", "the row keeps what it held")
        #expect(try await column("predicate", of: id, in: fixture) == #"{"op":"always"}"#)
    }

    @Test("a job row of the wrong type, or with a cutoff or predicate that does not parse, fails; the rest of its row stays as written",
          arguments: [("stage", "'second'", "the state database holds a job row this retentiond cannot read: stage holds \"second\", not an integer"),
                      ("cutoff", "'soon'", "the state database holds a cutoff that is not a time: 'soon'"),
                      ("predicate", "'{\"op\":'", "the state database holds a predicate this retentiond cannot read: '{\"op\":'"),
                      ("keys_digest", "'0/x'", "the state database holds a key digest this retentiond does not know: '0/x'")])
    func unreadableColumn(column name: String, value: String, reason: String) async throws {
        let (fixture, engine, store, id) = try await scenario("UPDATE job SET \(name) = \(value) WHERE id = ?")
        let before = try await column(name, of: id, in: fixture)
        #expect(try engine.database.jobs().first { $0.id == id }?.unreadable?.hasPrefix(reason) == true, "the listing still reads")
        let report = try await engine.runPass(at: Self.now)
        let failed = try #require(report.finished.first { $0.id == id })
        #expect(failed.state == .failed && failed.doneCount == 0)
        #expect(failed.reason?.hasPrefix(reason) == true, "\(failed.reason ?? "no reason")")
        #expect(try keys(store, "events") == [1, 2, 3, 4])
        #expect(try await column(name, of: id, in: fixture) == before)
        #expect(try await column("state", of: id, in: fixture) == "failed")
        #expect(try engine.database.auditRecords().first { $0.job == id }?.outcome == "failed")
        #expect(try engine.database.verifyAudit().problems.isEmpty)
    }

    @Test("an unreadable job awaiting approval cannot be approved; it can be cancelled, and is audited as written")
    func approval() async throws {
        let (_, engine, _, id) = try await scenario("UPDATE job SET action = 'frobnicate', state = 'awaiting-approval' WHERE id = ?")
        await #expect(throws: DecisionError.self) { try await engine.database.approve(id, by: "dpo", at: Self.now) }
        #expect(try engine.database.job(id)?.state == .awaitingApproval)
        #expect(try await engine.database.cancel(id, by: "dpo", at: Self.now).state == .cancelled)
        let audit = try #require(try engine.database.auditRecords().first { $0.job == id })
        #expect(audit.action == "frobnicate" && audit.outcome == "cancelled")
    }
}
