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

    @Test("a batch spanning several store transactions keeps what is left of its keys with each one's progress, readable after a kill -9; the last forgets it")
    func groupKeepsRemainingKeys() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/state.sqlite"
        let database = try StateDatabase(path: path, creation: .ifMissing)
        #expect(database.batchGroup > 1)
        var job = try database.insert(StateStoreTests.job(.running))
        let keys = (1...12).map(RecordKey.integer) + [.text("a"), .integer(40)]
        try database.beginBatch(of: job.id, keys: keys)
        (job.doneCount, job.lastKey) = (5, .integer(5))
        job.keysDigest.add(keys.prefix(5))
        try database.finishBatch(of: job, remaining: Array(keys.dropFirst(5)))
        // Another connection, as a restart after a kill -9 opens it: the progress and the keys
        // still to do, together.
        let reopened = try StateDatabase(path: path)
        #expect(try reopened.job(job.id) == job)
        #expect(Set(try reopened.pendingBatch(of: job.id) ?? []) == Set(keys.dropFirst(5)))
        #expect(try database.writer.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
        (job.doneCount, job.lastKey) = (14, .integer(40))
        job.keysDigest.add(keys.dropFirst(5))
        try database.finishBatch(of: job, remaining: [])
        #expect(try reopened.job(job.id) == job)
        #expect(try reopened.pendingBatch(of: job.id) == nil)
    }
}
