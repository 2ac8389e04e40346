import Foundation
import GRDB
@testable import PostgresState
@testable import RetentionEngine
import RetentionRules
import Testing
import TestSupport

/// A daemon frozen (SIGSTOP) or cut off with a SQLite store's write transaction open is taken
/// over; the store is checked against the claim only before the batch, so when it wakes it commits
/// that batch while the next daemon settles it. Found by scripts/failover.py (SIGSTOP, full size):
/// the taker read the batch's keys as still due, its own apply then found them gone, and 64 deleted
/// records were counted by nobody.
@Suite("A zombie's batch")
struct ZombieBatchTests {
    @Test("a batch the interrupted daemon commits while the taker settles it is counted once, by the taker")
    func zombieCommitDuringSettle() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        guard let sqlite3 = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            Issue.record("no sqlite3 command to hold the store's write lock as a frozen daemon would")
            return
        }
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short"))
        let queue = try EngineTests.seed(fixture)
        let frozen = try await SharedStateTests.engine(fixture, database, id: "host-a:1", ttl: .seconds(4)) { _ in }
        var job = try #require(try await frozen.runPass(at: SharedStateTests.now).waiting.first)
        try job.approve(by: "test", at: SharedStateTests.now)
        try await frozen.state.update(job)
        let state = SharedStateTests.shared(frozen)
        _ = try #require(try await state.claim(job.id))
        try job.start(at: SharedStateTests.now)
        try await state.update(job)
        try await state.beginBatch(of: job.id, keys: (30...49).map { RecordKey.integer(Int64($0)) })
        try await Task.sleep(for: .milliseconds(4400))
        // The frozen daemon's store transaction: the batch deleted, not yet committed; it commits
        // 3 s later, while the taker (whose busy timeout is 10 s) waits for the lock.
        let zombie = Process()
        zombie.executableURL = URL(fileURLWithPath: sqlite3)
        zombie.arguments = [queue.path, "BEGIN IMMEDIATE;", "DELETE FROM records WHERE id BETWEEN 30 AND 49;", ".shell sleep 3", "COMMIT;"]
        try zombie.run()
        try await Task.sleep(for: .milliseconds(500))
        let taker = try await SharedStateTests.engine(fixture, database, id: "host-b:2")
        let report = try await taker.runPass(at: SharedStateTests.now)
        zombie.waitUntilExit()
        #expect(zombie.terminationStatus == 0)
        let done = try #require(report.finished.first)
        #expect(done.state == .done && done.doneCount == 71 && done.keysDigest.hex == SharedStateTests.digest(30...100), "\(done)")
        let left = try await queue.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM records ORDER BY id") }
        #expect(left == Array(1...29))
        let audit = try await taker.state.verifyAudit(anchors: [])
        #expect(audit.records == 1 && audit.problems.isEmpty)
        await frozen.state.close()
        await taker.state.close()
    }
}
