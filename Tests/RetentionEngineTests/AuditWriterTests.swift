import Foundation
import GRDB
@testable import PostgresState
@testable import RetentionEngine
import Testing
import TestSupport

/// Who appended each audit record on a shared state, and under which claim's term (issue 14):
/// covered by the hash when present, absent (and hashed as before) otherwise, so that chains
/// written before the columns existed, and SQLite's, verify unchanged beside new records.
@Suite("Audit chain: term and daemon")
struct AuditWriterTests {
    static let now = StateStoreTests.now

    static func record(term: Int64?, daemon: String?, note: String? = nil) -> AuditRecord {
        AuditRecord(sequence: 1, job: 1, rule: "r", store: "s", dataset: "d", stage: 0, action: "delete", outcome: "done",
                    cutoff: "2026-11-19T12:00:00Z", count: 1, startedAt: "2026-11-20T12:00:00Z", finishedAt: "2026-11-20T12:00:00Z",
                    keysSHA256: KeyDigest().hex, previousHash: AuditChain.genesis, hash: "", note: note, term: term, daemon: daemon)
    }

    @Test("the hash covers term and daemon only when present, and no identity can pass for another split of the fields")
    func canonicalText() {
        let plain = Self.record(term: nil, daemon: nil, note: "n")
        #expect(plain.canonicalText.hasSuffix("\n" + AuditChain.genesis + "\nn"))
        let variants = [plain, Self.record(term: 1, daemon: nil, note: "n"), Self.record(term: nil, daemon: "a", note: "n"),
                        Self.record(term: 1, daemon: "a", note: "n"), Self.record(term: 2, daemon: "a", note: "n"),
                        Self.record(term: 1, daemon: "a\nterm 2", note: "n"), Self.record(term: 1, daemon: "a\"", note: "n"),
                        Self.record(term: 1, daemon: "a\\\"", note: "n"), Self.record(term: 1, daemon: "a", note: nil)]
        #expect(Set(variants.map(AuditChain.hash)).count == variants.count)
        #expect(!Self.record(term: 1, daemon: "a\nterm 2").canonicalText.contains("\nterm 2"))
    }

    /// A job claimed by `state` and run to its end there.
    static func claimedAndDone(_ state: PostgresStateStore, key: Int64) async throws -> (Job, JobClaim) {
        var job = try await state.insert(StateStoreTests.job(.planned))
        let claim = try #require(try await state.claim(job.id))
        job.keysDigest.add([.integer(key)])
        (job.state, job.doneCount, job.startedAt, job.finishedAt) = (.done, 1, Self.now, Self.now + 60)
        return (job, claim)
    }

    @Test("a SQLite chain (no such columns), migrated to PostgreSQL and continued by daemons there: mixed records verify; a term or daemon rewritten does not")
    func mixedChainAndTampering() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let directory = TemporaryDirectory()
        let path = directory.path + "/state.sqlite"
        let sqlite = try StateDatabase(path: path, creation: .ifMissing, auditKey: PostgresStateTests.key)
        for key in 1...2 {
            var job = try sqlite.insert(StateStoreTests.job(.running))
            job.keysDigest.add([.integer(Int64(key))])
            (job.state, job.doneCount, job.finishedAt) = (.done, 1, Self.now)
            try sqlite.finish(job)
        }
        // A SQLite state has no term or daemon columns: its records read with neither, and verify.
        let reopened = try StateDatabase(path: path, auditKey: PostgresStateTests.key)
        #expect(try reopened.verifyAudit(anchors: []).problems.isEmpty)
        #expect(try reopened.auditRecords().allSatisfy { $0.term == nil && $0.daemon == nil })
        #expect(try await DatabaseQueue(path: path).read { db in try db.columns(in: "audit").map(\.name) }.contains("term") == false)

        // As `state migrate` does: the copy (with the chain's id) in a store of its own, closed before daemons start.
        let target = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, creation: .ifMissing)
        do { try await target.copy(try reopened.snapshot()) } catch {
            await target.close()
            throw error
        }
        await target.close()
        let first = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, auditKey: PostgresStateTests.key,
                                                      daemonID: "host-a:1")
        let second = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, auditKey: PostgresStateTests.key,
                                                       daemonID: "host-b:2")
        let (ranByFirst, firstClaim) = try await Self.claimedAndDone(first, key: 3)
        try await first.finish(ranByFirst)
        let (ranBySecond, secondClaim) = try await Self.claimedAndDone(second, key: 4)
        try await second.finish(ranBySecond)
        // An operator's cancel of an unclaimed job: who, but under no claim.
        var cancelled = try await second.insert(StateStoreTests.job(.planned))
        (cancelled.state, cancelled.finishedAt) = (.cancelled, Self.now)
        try await second.finish(cancelled)

        let records = try await first.auditRecords()
        #expect(records.map(\.term) == [nil, nil, firstClaim.token, secondClaim.token, nil])
        #expect(records.map(\.daemon) == [nil, nil, "host-a:1", "host-b:2", "host-b:2"])
        #expect(secondClaim.token > firstClaim.token)
        let report = try await first.verifyAudit(anchors: [])
        #expect(report.records == 5 && report.problems.isEmpty && report.macsChecked, "\(report.problems)")

        try database.psql("ALTER TABLE audit DISABLE TRIGGER USER")
        try database.psql("UPDATE audit SET daemon = 'host-c:3' WHERE sequence = 3")
        try database.psql("UPDATE audit SET term = term + 1 WHERE sequence = 4")
        try database.psql("UPDATE audit SET term = 7 WHERE sequence = 1")
        try database.psql("ALTER TABLE audit ENABLE TRIGGER USER")
        let tampered = try await second.verifyAudit(anchors: [])
        #expect(Set(tampered.problems.map(\.sequence)) == [1, 3, 4], "\(tampered.problems)")
        #expect(tampered.problems.allSatisfy { $0.message.contains("hash") }, "\(tampered.problems)")
        await first.close()
        await second.close()
    }

    @Test("the audit table refuses UPDATE and DELETE of the new columns too, and an operator's cancel records who but no term")
    func appendOnly() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let state = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, creation: .ifMissing, daemonID: "a")
        try await state.finish(try await PostgresStateTests.done(state, keys: [.integer(1)]))
        await state.close()
        for sql in ["UPDATE audit SET term = 1", "UPDATE audit SET daemon = 'x'", "DELETE FROM audit"] {
            let refused = try database.psqlFailing(sql)
            #expect(refused.status != 0 && refused.stderr.contains("the audit trail is append-only"), "\(sql): \(refused.stderr)")
        }
        #expect(try database.psql("SELECT coalesce(term::text, '-') || ' ' || daemon FROM audit") == "- a")
    }
}
