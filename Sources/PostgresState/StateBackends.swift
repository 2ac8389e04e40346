import Foundation
package import RetentionEngine

/// Opens the state database `--state` names, whichever backend keeps it: a `postgresql://` or
/// `postgres://` URL is a `PostgresStateStore`, anything else a SQLite file (`StateDatabase`).
/// The CLI and the daemon both open it here, so that they read `--state` alike.
package enum StateBackends {
    /// The state database to use: the one given, else `$RETENTIOND_STATE`, else the installed file.
    package static func location(given: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        StateDatabase.path(given: given, environment: environment)
    }

    /// Opens it; creates it only as `creation` allows.
    /// - Parameters:
    ///   - passwordFile: `--state-password-file` (PostgreSQL only).
    ///   - auditKey: seals the audit records appended through it.
    ///   - daemonID: who this is to other daemons on a shared state (PostgreSQL only; default `host:pid`).
    ///   - lease: how long a lease or claim lasts unrenewed on a shared state (PostgreSQL only).
    ///   - anchor: told of each audit record after its commit (the journal).
    package static func open(_ location: String, passwordFile: String?, creation: StateCreation, auditKey: AuditKey?, daemonID: String? = nil,
                             lease: Duration = .seconds(30),
                             anchor: (@Sendable (AuditAnchor) -> Void)?) async throws(StateError) -> any StateBackend {
        if PostgresStateStore.isURL(location) {
            return try await PostgresStateStore.open(url: location, passwordFile: passwordFile, creation: creation, auditKey: auditKey, anchor: anchor,
                                                     daemonID: daemonID, leaseTTL: lease)
        }
        if let passwordFile {
            throw StateError(path: location, message: "--state-password-file \(passwordFile) was given, but the state database is a SQLite file, "
                             + "not a postgresql:// URL: check --state")
        }
        return try StateDatabase(path: location, creation: creation, auditKey: auditKey, anchor: anchor)
    }
}
