import Foundation
import GRDB
@testable import PostgresState
@testable import RetentionEngine
import RetentionRules
import RetentionStores
import Synchronization
import Testing
import TestSupport

extension SharedStateTests {
    @Test("a fenced daemon's SQLite store batch is rolled back: the claim's renewal runs inside the file's write transaction, and the rows stay")
    func fencedSQLiteBatchRolledBack() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short"))
        let file = try EngineTests.seed(fixture)
        let engine = try await Self.engine(fixture, database, id: "host-a:1", ttl: .seconds(4)) { _ in }
        var job = try #require(try await engine.runPass(at: Self.now).waiting.first)
        try job.approve(by: "test", at: Self.now)
        try await engine.state.update(job)
        let state = Self.shared(engine), id = job.id
        _ = try #require(try await state.claim(job.id))
        let store = try #require(engine.stores["crm"]), dataset = try #require(store.datasets.first)
        let connection = try await engine.connector.connect(to: store)
        let writer = try #require(connection as? any BatchWriter)
        let count: @Sendable () throws -> Int = { try file.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM records") ?? -1 } }
        let keys = try await writer.keys(dataset, where: job.predicate, from: .anywhere, limit: 10)
        #expect(keys.count == 10)
        // While the claim holds, the batch commits; the renewal runs before COMMIT, so from outside nothing is gone yet.
        let seen = Mutex(-1)
        let first = try await writer.apply(.delete, to: dataset, keys: Array(keys.prefix(5)), where: job.predicate) {
            try await state.confirm(id)
            let outside = try count()
            seen.withLock { $0 = outside }
        }
        #expect(first == Array(keys.prefix(5)) && seen.withLock { $0 } == 100)
        #expect(try count() == 95)
        // The claim runs out and another daemon takes the job: the next batch is rolled back.
        try await Task.sleep(for: .milliseconds(4400))
        let other = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, daemonID: "host-b:2")
        #expect(try await other.claim(job.id)?.tookOverFrom == "host-a:1")
        let error = await #expect(throws: StateError.self) {
            try await writer.apply(.delete, to: dataset, keys: Array(keys.suffix(5)), where: job.predicate) { try await state.confirm(id) }
        }
        #expect(error?.kind == .fenced(job: job.id), "\(String(describing: error))")
        #expect(try count() == 95)
        // The rollback let the file go: another writer gets it at once, and so does the next batch.
        try await file.write { db in try db.execute(sql: "UPDATE records SET name = 'after' WHERE id = 1") }
        #expect(try await writer.apply(.delete, to: dataset, keys: Array(keys.suffix(5)), where: job.predicate) == Array(keys.suffix(5)))
        #expect(try count() == 90)
        await connection.close()
        await other.close()
        await engine.state.close()
    }

    @Test("a daemon that stalls past the limit in the middle of a SQLite batch, its claim taken over meanwhile, rolls back and says it was fenced, not only that the state was slow")
    func stalledSQLiteBatchFindsItselfFenced() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short"))
        let file = try EngineTests.seed(fixture)
        let engine = try await Self.engine(fixture, database, id: "host-a:1", ttl: .seconds(4)) { _ in }
        var job = try #require(try await engine.runPass(at: Self.now).waiting.first)
        try job.approve(by: "test", at: Self.now)
        try await engine.state.update(job)
        let state = Self.shared(engine), id = job.id
        _ = try #require(try await state.claim(job.id))
        let store = try #require(engine.stores["crm"]), dataset = try #require(store.datasets.first)
        let connection = try await engine.connector.connect(to: store)
        let writer = try #require(connection as? any BatchWriter)
        let keys = try await writer.keys(dataset, where: job.predicate, from: .anywhere, limit: 5)
        let other = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, daemonID: "host-b:2")
        // The stall (a SIGSTOP, here a sleep) outlasts both the claim and the 5 s limit; another
        // daemon takes the job over meanwhile; then the renewal is asked.
        let error = await #expect(throws: StateError.self) {
            try await writer.apply(.delete, to: dataset, keys: keys, where: job.predicate) {
                try await Task.sleep(for: .milliseconds(4400))
                #expect(try await other.claim(id)?.tookOverFrom == "host-a:1")
                try await Task.sleep(for: .milliseconds(1200))
                try await state.confirm(id)
            }
        }
        #expect(error?.kind == .fenced(job: job.id), "\(String(describing: error))")
        #expect(try await file.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM records") } == 100)
        await connection.close()
        await other.close()
        await engine.state.close()
    }

    @Test("a state server that does not answer while a SQLite batch holds the file's write lock: rolled back after the limit, the lock let go, a state error")
    func unansweredConfirmationRollsBack() async throws {
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short"))
        let file = try EngineTests.seed(fixture)
        let engine = try fixture.engine { _ in }
        let store = try #require(engine.stores["crm"]), dataset = try #require(store.datasets.first)
        let connection = try await engine.connector.connect(to: store)
        let writer = try #require(connection as? any BatchWriter)
        let predicate = RecordPredicate.before(columns: ["created_at"], cutoff: Self.now - 30 * 86_400)
        let keys = try await writer.keys(dataset, where: predicate, from: .anywhere, limit: 5)
        let started = ContinuousClock.now
        let error = await #expect(throws: StateError.self) {
            try await writer.apply(.delete, to: dataset, keys: keys, where: predicate) { try await Task.sleep(for: .seconds(60)) }
        }
        let waited = ContinuousClock.now - started
        #expect(error?.kind == .failure && error?.message.contains("did not confirm") == true, "\(String(describing: error))")
        #expect(waited >= .seconds(5) && waited < .seconds(30), "waited \(waited)")
        #expect(try await file.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM records") } == 100)
        try await file.write { db in try db.execute(sql: "UPDATE records SET name = 'after' WHERE id = 1") }
        await connection.close()
    }
}
