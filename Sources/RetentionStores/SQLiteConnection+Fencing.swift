import Foundation
import GRDB
import RetentionEngine
import RetentionRules

/// A SQLite store's batch on a shared state (`SharedState`): BEGIN IMMEDIATE … the batch's
/// statements … the claim's conditional renewal in the state database … COMMIT, so that a daemon
/// that lost its claim rolls its batch back, as a PostgreSQL store's batch does.
///
/// The file's write lock is held while the state server answers: other writers of the file wait
/// for it. So that a slow or unreachable state server does not stop them, the answer is awaited
/// at most `confirmationLimit`; past it the batch is rolled back and the pass stops as when the
/// state cannot be reached (the batch, begun in the state, is settled by the next run).
///
/// What this cannot cover: a daemon frozen (SIGSTOP) between the renewal's answer and COMMIT —
/// microseconds — commits when it resumes, even after its claim ran out. A PostgreSQL store's
/// server aborts such a transaction (`idle_in_transaction_session_timeout`); SQLite has no server.
extension SQLiteConnection {
    /// How long the file's write lock may wait on the state server: below the shortest claim lease
    /// of a production daemon, as for a PostgreSQL store's idle transaction.
    static let confirmationLimit = Duration.seconds(5)

    func apply(_ change: Change, to dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate,
               beforeCommit: @Sendable () async throws -> Void) async throws -> [RecordKey] {
        guard !keys.isEmpty else {
            try await beforeCommit()
            return []
        }
        let changed = try batch(change, to: dataset, keys: keys, where: predicate, leavingOpen: true)
        do {
            try await confirm(beforeCommit)
            try run { try queue.writeWithoutTransaction { db in try db.commit() } }
        } catch {
            rollBackIfOpen()
            throw error
        }
        return changed
    }

    /// Runs `beforeCommit` with the batch's transaction open; past `confirmationLimit` rolls the
    /// batch back at once (the lock is let go) and throws. The answer is then awaited as long again:
    /// a daemon woken from SIGSTOP finds its limit long past, and only the answer says whether it
    /// was fenced meanwhile (its claim taken over), which it must say as such (`lease=fenced`).
    private func confirm(_ beforeCommit: @Sendable () async throws -> Void) async throws {
        try await withoutActuallyEscaping(beforeCommit) { confirmation in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { try await confirmation(); return true }
                group.addTask { try await Task.sleep(for: Self.confirmationLimit); return false }
                defer { group.cancelAll() }
                if try await group.next() ?? false { return }
                rollBackIfOpen()
                group.addTask { try await Task.sleep(for: Self.confirmationLimit); return false }
                // A confirmation failing now rethrows its own error (fenced, out of reach). A late
                // yes may be stale (a daemon frozen after the server answered): asked once more.
                if try await group.next() == true { try await confirmation() }
                throw StateError(path: "store \(store.id)", message: "the state database did not confirm this daemon's claim within "
                                 + "\(Self.confirmationLimit) while the batch held the SQLite file's write lock: the batch was rolled back")
            }
        }
    }

    /// Ends the open batch transaction without its changes (nothing when none is open).
    private func rollBackIfOpen() {
        try? queue.writeWithoutTransaction { db in
            if db.isInsideTransaction { try db.rollback() }
        }
    }

    /// `body` in a write transaction of its own, or begun and left open when `leavingOpen`: ended
    /// by `apply(…beforeCommit:)`. A failure inside rolls it back either way.
    func writeTransaction<T>(leavingOpen: Bool, _ body: (Database) throws -> T) throws -> T {
        guard leavingOpen else { return try queue.write(body) }
        return try queue.writeWithoutTransaction { db in
            try db.beginTransaction(.immediate)
            do { return try body(db) } catch {
                try? db.rollback()
                throw error
            }
        }
    }
}
