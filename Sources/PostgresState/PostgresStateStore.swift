import Foundation
import Logging
import PostgresNIO
package import RetentionEngine
import RetentionRules
import RetentionStores
import Synchronization

/// The state on PostgreSQL: the tables of `StateDatabase` (jobs, the batch in flight, holds,
/// passes, locked rules, the audit chain and its id) in a database several daemons and
/// `retentionctl` can reach, selected by `--state postgresql://…`.
///
/// Every requirement of `StateStore` and `StateBackend` is one transaction (`StateSession`).
/// Instants are stored as the very text the SQLite backend writes (`InstantText`), in columns
/// compared byte by byte (`COLLATE "C"`, as SQLite compares text): a value read back is the value
/// written, an audit record hashes the same on both backends, and `state migrate` copies rows
/// verbatim rather than converting them. Audit appends serialise on the chain's row
/// (`SELECT … FOR UPDATE`), so that two writers never fork the chain.
package final class PostgresStateStore: StateBackend {
    let session: StateSession
    package let chainID: String
    package let created: Bool
    let auditKey: AuditKey?
    /// Told of every audit record once it is committed (the journal).
    let anchor: (@Sendable (AuditAnchor) -> Void)?
    /// This daemon in the leader row and in claims (`SharedState`).
    package let daemonID: String
    /// How long a lease or claim lasts unrenewed: a daemon that died, froze or lost the network
    /// is taken over after this long (by the server's clock).
    let leaseTTL: Duration
    /// The jobs this daemon holds claims on, and their fencing tokens: every write of those jobs
    /// is conditional on the claim (`fence`).
    let claims = Mutex<[Int64: Int64]>([:])
    /// The term this daemon was last told it leads in (`lead`), nil while it follows: `resign`
    /// gives up the lease only in that term, never a later holder's.
    let term = Mutex<Int64?>(nil)

    package var location: String { session.location }

    /// Whether `text` names a PostgreSQL state database rather than a SQLite file.
    package static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// Whether `error` says the state database could not be reached or dropped the connection
    /// (rather than refused what was asked): the daemon then says it stops acting, and retries.
    package static func isOutOfReach(_ error: StateError) -> Bool {
        error.kind == .failure && (error.message.hasPrefix(StateSession.unreachable) || error.message.hasPrefix(StateSession.lost))
    }

    /// The credential that holds the state database's password, when it is not the stores' one.
    package static let credentialName = "state-postgres-password"

    /// Connects to the state database at `url` and brings its schema up to date; creates the
    /// schema only when `creation` allows it. Refuses a schema a later retentiond made.
    /// - Parameters:
    ///   - passwordFile: `--state-password-file`; without it, the credential
    ///     `state-postgres-password`, else the stores' `postgres-password`.
    ///   - daemonID: who this is to other daemons (default `host:pid`).
    ///   - leaseTTL: how long a lease or claim lasts unrenewed.
    package static func open(url: String, passwordFile: String?, creation: StateCreation = .refuse, auditKey: AuditKey? = nil,
                             anchor: (@Sendable (AuditAnchor) -> Void)? = nil, daemonID: String? = nil,
                             leaseTTL: Duration = .seconds(30)) async throws(StateError) -> PostgresStateStore {
        let dsn: PostgresDSN
        do { dsn = try PostgresDSN.parse(url.hasPrefix("postgres://") ? "postgresql://" + url.dropFirst("postgres://".count) : url) } catch {
            throw StateError(path: "--state", message: "not a usable PostgreSQL URL: \(error)")
        }
        let session = StateSession(dsn: dsn, password: try password(file: passwordFile, location: dsn.description), lease: leaseTTL)
        do {
            let (chain, created) = try await session.transaction(bounded: false) { connection in
                try await StateSchema.prepare(connection, creation: creation, logger: session.logger, location: session.location)
            }
            return PostgresStateStore(session: session, chainID: chain, created: created, auditKey: auditKey, anchor: anchor,
                                      daemonID: daemonID ?? defaultDaemonID(), leaseTTL: leaseTTL)
        } catch {
            await session.close()
            throw error
        }
    }

    private init(session: StateSession, chainID: String, created: Bool, auditKey: AuditKey?, anchor: (@Sendable (AuditAnchor) -> Void)?,
                 daemonID: String, leaseTTL: Duration) {
        self.daemonID = daemonID
        self.leaseTTL = leaseTTL
        self.session = session
        self.chainID = chainID
        self.created = created
        self.auditKey = auditKey
        self.anchor = anchor
    }

    /// Closes the connection; a later call would open a new one.
    package func close() async {
        await session.close()
    }

    private static func password(file: String?, location: String) throws(StateError) -> String? {
        var found = Credential.read(credentialName, path: file)
        if case .absent = found { found = Credential.read(PostgresSession.credentialName, path: nil) }
        switch found {
        case .absent: return nil
        case .unreadable(let file): throw StateError(path: location, message: "cannot read the password file \(file)")
        case .read(let data, _): return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        }
    }

    /// Runs `body` in one transaction.
    @discardableResult
    func transaction<T: Sendable>(bounded: Bool = true, _ body: @escaping @Sendable (PostgresNIO.PostgresConnection) async throws -> T)
        async throws(StateError) -> T {
        try await session.transaction(bounded: bounded, body)
    }

    var logger: Logger { session.logger }
}
