import Foundation
import GRDB
@testable import RetentionEngine
import Testing
import TestSupport

/// A batch's result is committed without an fsync of its own (`finishBatch`), made durable by the
/// next FULL commit: the connection must be back at FULL for that commit, and the result must be
/// committed (another connection, as after a kill -9, reads it).
@Suite("Batch durability")
struct BatchDurabilityTests {
    @Test("after a batch's result is saved unsynced, the state database commits with fsync again and another connection reads the result")
    func finishBatchRestoresFull() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/state.sqlite"
        let database = try StateDatabase(path: path, creation: .ifMissing)
        var job = try database.insert(StateStoreTests.job(.running))
        try database.beginBatch(of: job.id, keys: [.integer(1), .integer(2)])
        (job.doneCount, job.lastKey) = (2, .integer(2))
        job.keysDigest.add([.integer(1), .integer(2)])
        try database.finishBatch(of: job)
        // 2 is FULL: the next batch's keys, written before its store is touched, are fsynced.
        #expect(try database.writer.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
        let reopened = try StateDatabase(path: path)
        #expect(try reopened.job(job.id) == job)
        #expect(try reopened.pendingBatch(of: job.id) == nil)
        // A failing batch write restores FULL too.
        #expect(throws: StateError.self) { try database.unsynced { db in try db.execute(sql: "INSERT INTO no_such_table VALUES (1)") } }
        #expect(try database.writer.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
    }
}
