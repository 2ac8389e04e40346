import Foundation
import GRDB
import PostgresState
@testable import RetentionEngine
import RetentionRules
import Testing
import TestSupport

/// What the engine relies on of its state, checked through `any StateStore` and `any
/// StateBackend` on both backends — the SQLite `StateDatabase` and the `PostgresStateStore`
/// (skipped without the test cluster of `scripts/with-postgres`), each made through its creation
/// path. The last two pin what existing state databases were written with: the text a SQLite job
/// row holds, and the schema and migration identifiers.
@Suite("State store")
struct StateStoreTests {
    static let now = Date(timeIntervalSince1970: 1_795_176_000)      // 2026-11-20T12:00:00Z
    static let day: TimeInterval = 86_400

    /// A new state database in its own directory (kept alive by the returned directory).
    func sqlite() throws -> (TemporaryDirectory, StateDatabase) {
        let directory = TemporaryDirectory()
        return (directory, try StateDatabase(path: directory.path + "/state.sqlite", creation: .ifMissing))
    }

    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    /// A new state database of `backend` (kept alive by the returned directory); nil for
    /// PostgreSQL without a test cluster.
    static func open(_ backend: Backend) async throws -> (TemporaryDirectory, any StateBackend)? {
        let directory = TemporaryDirectory()
        switch backend {
        case .sqlite:
            return (directory, try StateDatabase(path: directory.path + "/state.sqlite", creation: .ifMissing))
        case .postgres:
            guard let database = try PostgresTestDatabase.create() else { return nil }
            return (directory, try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, creation: .ifMissing))
        }
    }

    static func job(_ state: Job.State = .planned) -> Job {
        Job(id: 0, store: "app", dataset: "events", rule: "events", stage: 1, action: .anonymize, isViolation: false,
            cutoff: now - day, predicate: .before(columns: ["created"], cutoff: now - day), state: state, plannedAt: now,
            notBefore: now, plannedCount: 3, datasetTotal: 10, doneCount: 0, keysDigest: KeyDigest(), note: "a note")
    }

    @Test("jobs: inserted with an id, read back as saved, listed by state oldest first, ended with their audit record", arguments: Backend.allCases)
    func jobs(backend: Backend) async throws {
        guard let opened = try await Self.open(backend) else { return }
        let (directory, state) = opened
        let first = try await state.insert(Self.job())
        #expect(first.id > 0)
        #expect(try await state.job(first.id) == first)
        var running = first
        (running.state, running.startedAt, running.doneCount, running.lastKey) = (.running, Self.now, 2, .integer(7))
        running.keysDigest.add([.integer(6), .integer(7)])
        try await state.update(running)
        #expect(try await state.job(first.id) == running)
        // Another stage: a PostgreSQL state keeps one open job per stage (v6-leases).
        var waiting = Self.job(.awaitingApproval)
        waiting.stage = 2
        let second = try await state.insert(waiting)
        #expect(try await state.jobs(in: [.running]).map(\.id) == [first.id])
        #expect(try await state.jobs(in: [.awaitingApproval, .running]).map(\.id) == [first.id, second.id])
        #expect(try await state.jobs(in: []).count == 2)
        var done = running
        (done.state, done.finishedAt) = (.done, Self.now + 60)
        let record = try await state.finish(done)
        #expect(record.sequence == 1 && record.job == first.id && record.action == "anonymize" && record.outcome == "done")
        #expect(record.count == 2 && record.keysSHA256 == done.keysDigest.hex && record.note == "a note")
        #expect(record.startedAt == "2026-11-20T12:00:00Z" && record.finishedAt == "2026-11-20T12:01:00Z")
        #expect(try await state.job(first.id) == done)
        #expect(try await state.verifyAudit(anchors: []).problems.isEmpty)
        _ = directory
        await (state as? PostgresStateStore)?.close()
    }

    @Test("the batch in flight: its keys are kept until the batch is finished or the job ends", arguments: Backend.allCases)
    func batches(backend: Backend) async throws {
        guard let opened = try await Self.open(backend) else { return }
        let (directory, state) = opened
        let job = try await state.insert(Self.job(.running))
        #expect(try await state.pendingBatch(of: job.id) == nil)
        let keys: [RecordKey] = [.integer(1), .integer(2), .integer(3), .integer(4), .integer(9), .text("a")]
        try await state.beginBatch(of: job.id, keys: keys)
        #expect(Set(try await state.pendingBatch(of: job.id) ?? []) == Set(keys))
        var progressed = job
        progressed.doneCount = 6
        try await state.finishBatch(of: progressed)
        #expect(try await state.pendingBatch(of: job.id) == nil)
        #expect(try await state.job(job.id)?.doneCount == 6)
        try await state.beginBatch(of: job.id, keys: [.integer(10)])
        var failed = progressed
        (failed.state, failed.reason, failed.finishedAt) = (.failed, "the store went away", Self.now)
        try await state.finish(failed)
        #expect(try await state.pendingBatch(of: job.id) == nil)
        _ = directory
        await (state as? PostgresStateStore)?.close()
    }

    @Test("passes: the clock may not go back, nor jump further ahead than the gap allowed", arguments: Backend.allCases)
    func passes(backend: Backend) async throws {
        guard let opened = try await Self.open(backend) else { return }
        let (directory, state) = opened
        try await state.checkAuditKey()
        let pass = try await state.beginPass(at: Self.now, maximumGap: nil)
        try await state.finishPass(pass, at: Self.now, result: "done")
        await #expect(throws: StateError.self) { try await state.beginPass(at: Self.now - 1, maximumGap: nil) }
        await #expect(throws: StateError.self) { try await state.beginPass(at: Self.now + 40 * Self.day, maximumGap: 30 * Self.day) }
        #expect(try await state.beginPass(at: Self.now + Self.day, maximumGap: 30 * Self.day) > pass)
        #expect(try await state.lastPassClock() == Self.now + Self.day)
        _ = directory
        await (state as? PostgresStateStore)?.close()
    }

    @Test("holds in force and locked rules, as remembered", arguments: Backend.allCases)
    func holdsAndLocks(backend: Backend) async throws {
        guard let opened = try await Self.open(backend) else { return }
        let (directory, state) = opened
        let held = try await state.addHold(.record(store: "app", dataset: "events", key: .text("007")), reason: "case 1", by: "dpo", at: Self.now)
        let released = try await state.addHold(.store("app"), reason: "case 2", by: "dpo", at: Self.now)
        #expect(try await state.releaseHold(released.id, by: "dpo", at: Self.now))
        #expect(try await state.holds().map(\.scope) == [held.scope])
        let locked = LockedRule(rule: "tax", anchor: ["closed_at"], stages: [], retention: "stages", kind: .obligation, recordedAt: Self.now, form: nil)
        try await state.remember([locked])
        var later = locked
        later.recordedAt = Self.now + Self.day
        try await state.remember([later])
        #expect(try await state.lockedRules() == [later])
        _ = directory
        await (state as? PostgresStateStore)?.close()
    }

    @Test("a job row holds the text earlier versions wrote: ISO 8601 instants, sorted JSON, the digest's state text")
    func rowText() throws {
        let (directory, database) = try sqlite()
        var job = try database.insert(Self.job(.running))
        job.keysDigest.add([.integer(1)])
        (job.doneCount, job.lastKey) = (1, .text("007"))
        try database.update(job)
        let row = try #require(try DatabaseQueue(path: database.path).read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM job WHERE id = ?", arguments: [job.id])
        })
        #expect(row["cutoff"] as String == "2026-11-19T12:00:00Z" && row["planned_at"] as String == "2026-11-20T12:00:00Z")
        #expect(row["predicate"] as String == #"{"columns":["created"],"cutoff":"2026-11-19T12:00:00Z","op":"before"}"#)
        #expect(row["last_key"] as String == #""007""# && row["keys_digest"] as String == job.keysDigest.stateText)
        #expect(row["action"] as String == "anonymize" && row["state"] as String == "running" && row["violation"] as Int == 0)
        #expect(row["started_at"] as String? == nil && row["note"] as String == "a note")
        _ = directory
    }

    @Test("the schema is the one migrations v1…v5-audit-key have always made: existing state databases stay as they are")
    func schema() throws {
        let (directory, database) = try sqlite()
        let (schema, migrations) = try DatabaseQueue(path: database.path).read { db in
            (try Row.fetchAll(db, sql: "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name")
                .map { "\($0["type"] as String) \($0["name"] as String): \($0["sql"] as String)" },
             try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid"))
        }
        #expect(migrations == ["v1", "v2-kinds", "v3-clock", "v4-locks", "v5-audit-key"])
        #expect(schema == [
            #"index job_on_state: CREATE INDEX "job_on_state" ON "job"("state")"#,
            #"table audit: CREATE TABLE "audit" ("sequence" INTEGER PRIMARY KEY, "job" INTEGER NOT NULL, "rule" TEXT NOT NULL, "store" TEXT NOT NULL, "dataset" TEXT NOT NULL, "stage" INTEGER NOT NULL, "action" TEXT NOT NULL, "outcome" TEXT NOT NULL, "cutoff" TEXT NOT NULL, "count" INTEGER NOT NULL, "started_at" TEXT NOT NULL, "finished_at" TEXT NOT NULL, "keys_sha256" TEXT NOT NULL, "previous_hash" TEXT NOT NULL, "hash" TEXT NOT NULL, "note" TEXT, "mac" TEXT)"#,
            #"table audit_chain: CREATE TABLE "audit_chain" ("id" TEXT NOT NULL)"#,
            #"table batch: CREATE TABLE "batch" ("job" INTEGER PRIMARY KEY REFERENCES "job"("id"), "keys" TEXT NOT NULL)"#,
            #"table grdb_migrations: CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)"#,
            #"table hold: CREATE TABLE "hold" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "store" TEXT NOT NULL, "dataset" TEXT, "key" TEXT, "reason" TEXT NOT NULL, "created_by" TEXT NOT NULL, "created_at" TEXT NOT NULL, "released_at" TEXT, "released_by" TEXT)"#,
            #"table job: CREATE TABLE "job" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "store" TEXT NOT NULL, "dataset" TEXT NOT NULL, "rule" TEXT NOT NULL, "stage" INTEGER NOT NULL, "action" TEXT NOT NULL, "violation" BOOLEAN NOT NULL, "cutoff" TEXT NOT NULL, "predicate" TEXT NOT NULL, "state" TEXT NOT NULL, "reason" TEXT, "planned_at" TEXT NOT NULL, "not_before" TEXT NOT NULL, "planned_count" INTEGER NOT NULL, "dataset_total" INTEGER, "done_count" INTEGER NOT NULL, "last_key" TEXT, "keys_digest" TEXT NOT NULL, "started_at" TEXT, "finished_at" TEXT, "decided_by" TEXT, "note" TEXT)"#,
            #"table locked_rule: CREATE TABLE "locked_rule" ("rule" TEXT PRIMARY KEY, "anchor" TEXT NOT NULL, "stages" TEXT NOT NULL, "retention" TEXT NOT NULL, "recorded_at" TEXT NOT NULL, "kind" TEXT NOT NULL DEFAULT 'purpose', "form" TEXT)"#,
            #"table pass: CREATE TABLE "pass" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "started_at" TEXT NOT NULL, "finished_at" TEXT, "result" TEXT, "voided_at" TEXT, "voided_by" TEXT)"#,
            #"table sqlite_sequence: CREATE TABLE sqlite_sequence(name,seq)"#,
            #"trigger audit_chain_no_delete: CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain BEGIN SELECT RAISE(ABORT, 'the audit chain id is fixed'); END"#,
            #"trigger audit_chain_no_update: CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain BEGIN SELECT RAISE(ABORT, 'the audit chain id is fixed'); END"#,
            #"trigger audit_no_delete: CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"#,
            #"trigger audit_no_update: CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"#,
        ])
        _ = directory
    }
}
