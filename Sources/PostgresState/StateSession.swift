import Foundation
import Logging
import PostgresNIO
import RetentionEngine
import RetentionRules
import RetentionStores
import Synchronization

/// The one connection a `PostgresStateStore` talks through, and the line its transactions wait in.
///
/// One transaction at a time: a connection carries one transaction, and the engine's calls are
/// sequential anyway (a daemon's clock guard may ask between them). Waiting is a suspended task,
/// never a blocked thread. A connection found closed, or lost during a transaction, is dropped:
/// that call fails saying so, and the next one connects anew, so that a daemon resumes by itself
/// once the server is back.
final class StateSession: Sendable {
    let dsn: PostgresDSN
    /// Never in a message: every text built from a library's or the server's error is redacted.
    private let password: String?
    let logger: Logger
    private let connection = Mutex<PostgresNIO.PostgresConnection?>(nil)
    private let line = Mutex<(busy: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))
    /// The session's bounds on waiting (`settings(lease:)`).
    private let settings: [String]

    init(dsn: PostgresDSN, password: String?, lease: Duration = .seconds(30)) {
        self.dsn = dsn
        self.password = password
        settings = Self.settings(lease: lease)
        limit = max(.seconds(20), lease)
        var logger = Logger(label: "retentiond.state")
        logger.logLevel = .critical
        self.logger = logger
    }

    var location: String { dsn.description }

    /// Runs `body` in one transaction (postgres-nio's `withTransaction`: BEGIN, then COMMIT, or
    /// ROLLBACK when `body` throws), after the transactions before it.
    @discardableResult
    /// - Parameter bounded: whether it gives up after `limit`; not for the rare transactions whose
    ///   length grows with the data (the schema's migrations at open, `state migrate`'s copy).
    func transaction<T: Sendable>(bounded: Bool = true, _ body: @escaping @Sendable (PostgresNIO.PostgresConnection) async throws -> T)
        async throws(StateError) -> T {
        await enterLine()
        defer { leaveLine() }
        let connection = try await connected()
        let logger = self.logger
        let work: @Sendable (PostgresNIO.PostgresConnection) async throws -> T = { connection in
            try await connection.withTransaction(logger: logger) { connection in try await body(connection) }
        }
        do {
            return try await bounded ? self.bounded(connection, work) : work(connection)
        } catch let overdue as Overdue {
            drop(connection)
            throw failure("\(Self.lost) (no answer within \(overdue.seconds) s); nothing of this call was committed "
                          + "unless the server finished it, and the next call reconnects")
        } catch {
            let cause = Self.cause(of: error)
            if let stateError = cause as? StateError { throw stateError }
            if connection.isClosed || Self.isConnectionLoss(cause) {
                drop(connection)
                throw failure("\(Self.lost) (\(describe(cause))); nothing of this call was committed "
                              + "unless the server finished it, and the next call reconnects")
            }
            throw failure(describe(cause))
        }
    }

    /// How long one transaction may take in all: its lock waits (`lock_timeout`, 10 s) and more.
    /// Beyond it the connection is given up, whatever postgres-nio is waiting for: a daemon woken
    /// from SIGSTOP after the server ended its idle transaction waited for ever on that
    /// connection, its claims long gone (scripts/failover.py, the SIGSTOP scenario).
    let limit: Duration

    struct Overdue: Error {
        var seconds: Int64
    }

    /// `work` on `connection`, or `Overdue` once `limit` passed: whichever comes first resumes the
    /// caller. Work still running then is left to end with the connection, which the caller drops.
    private func bounded<T: Sendable>(_ connection: PostgresNIO.PostgresConnection,
                                      _ work: @escaping @Sendable (PostgresNIO.PostgresConnection) async throws -> T) async throws -> T {
        let waiting = Mutex<CheckedContinuation<T, any Error>?>(nil)
        let finish: @Sendable (Result<T, any Error>) -> Void = { result in
            waiting.withLock { slot in defer { slot = nil }; return slot }?.resume(with: result)
        }
        let limit = self.limit
        return try await withCheckedThrowingContinuation { continuation in
            waiting.withLock { $0 = continuation }
            let timer = Task {
                try? await Task.sleep(for: limit)
                if !Task.isCancelled { finish(.failure(Overdue(seconds: limit.components.seconds))) }
            }
            Task {
                defer { timer.cancel() }
                do { finish(.success(try await work(connection))) } catch { finish(.failure(error)) }
            }
        }
    }

    /// Closes the connection (at the end of a command; a daemon keeps it).
    func close() async {
        let open = connection.withLock { connection in
            defer { connection = nil }
            return connection
        }
        try? await open?.close()
    }

    /// A `StateError` about this state database whose message holds no password.
    func failure(_ message: String) -> StateError {
        StateError(path: location, message: PostgresSession.redacted(message, password: password))
    }

    func describe(_ error: any Error) -> String {
        PostgresSession.describe(error, dsn: dsn)
    }

    // MARK: The connection

    private func connected() async throws(StateError) -> PostgresNIO.PostgresConnection {
        if let open = connection.withLock({ $0 }), !open.isClosed { return open }
        do {
            let fresh = try await PostgresSession.connect(dsn, name: "state database", password: password, logger: logger)
            do {
                for setting in settings { try await fresh.query(PostgresQuery(unsafeSQL: setting), logger: logger) }
            } catch {
                try? await fresh.close()
                throw error
            }
            connection.withLock { $0 = fresh }
            return fresh
        } catch let error as StoreError {
            throw failure("\(Self.unreachable): \(error.message)")
        } catch {
            throw failure("\(Self.unreachable): \(describe(error))")
        }
    }

    /// How the errors of a state database out of reach begin (`PostgresStateStore.isOutOfReach`).
    static let unreachable = "cannot reach the state database"
    static let lost = "lost the connection to the state database"

    private func drop(_ lost: PostgresNIO.PostgresConnection) {
        connection.withLock { if $0 === lost { $0 = nil } }
        Task { try? await lost.close() }
    }

    /// Bounds on waiting, for the session. Every transaction here is short, so a long wait means
    /// a writer that stopped: a process frozen (SIGSTOP) or cut off in the middle of a write holds
    /// the rows it wrote (the chain's head, a job's claim), and every other writer would wait on
    /// them for ever. The server ends such a transaction after `idle_in_transaction_session_timeout`
    /// — half the lease (5 s at least, 60 s at most), so that a job whose claiming daemon froze in
    /// the middle of renewing it is free when its claim runs out, not a minute later (FOR UPDATE
    /// SKIP LOCKED passes over a locked row) — and a writer waiting for a lock gives up after
    /// `lock_timeout` with an error saying so, rather than hang a pass.
    static func settings(lease: Duration) -> [String] {
        let idle = min(60_000, max(5_000, lease.components.seconds * 500 + lease.components.attoseconds / 2_000_000_000_000_000))
        return ["SET lock_timeout = '10s'", "SET idle_in_transaction_session_timeout = '\(idle)ms'"]
    }

    /// The error inside postgres-nio's transaction error.
    static func cause(of error: any Error) -> any Error {
        guard let transaction = error as? PostgresTransactionError else { return error }
        return transaction.closureError ?? transaction.beginError ?? transaction.commitError ?? transaction.rollbackError ?? error
    }

    static func isConnectionLoss(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        return [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown].contains(error.code)
    }

    // MARK: The line

    private func enterLine() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let enter = line.withLock { line in
                if line.busy { line.waiting.append(waiter); return false }
                line.busy = true
                return true
            }
            if enter { waiter.resume() }
        }
    }

    private func leaveLine() {
        let next = line.withLock { line -> CheckedContinuation<Void, Never>? in
            if line.waiting.isEmpty { line.busy = false; return nil }
            return line.waiting.removeFirst()
        }
        next?.resume()
    }
}
