package import Logging
package import PostgresNIO
import RetentionEngine
package import RetentionRules

/// The stores' way of opening a PostgreSQL session — TLS as `sslmode` says, the cleartext-password
/// guard (`PostgresStartupGuard`), errors that name the URL without secrets and never hold the
/// password — offered to what else talks to PostgreSQL: the state backend (`PostgresStateStore`).
/// One path for both, so that the state database gets no weaker TLS or authentication than a store.
package enum PostgresSession {
    /// The credential that holds the stores' password (`LoadCredential=postgres-password:…`).
    package static let credentialName = PostgresConnection.credentialName

    /// Connects and authenticates as `dsn` says; a failure is a `StoreError` whose store is `name`.
    package static func connect(_ dsn: PostgresDSN, name: String, password: String?, logger: Logger) async throws -> PostgresNIO.PostgresConnection {
        let connection = try await PostgresConnection.connect(dsn, store: .postgres(id: name, dsn: dsn.description), password: password, logger: logger)
        do {
            try await connection.query("SET TIME ZONE 'UTC'", logger: logger)
        } catch {
            try? await connection.close()
            throw StoreError(store: name, message: redacted("cannot set up the session on \(dsn): \(describe(error, dsn: dsn))", password: password))
        }
        return connection
    }

    /// An error of PostgreSQL in words (the server's message and SQLSTATE when there is one).
    package static func describe(_ error: any Error, dsn: PostgresDSN) -> String {
        PostgresConnection.describe(error, dsn: dsn)
    }

    /// `message` with every occurrence of `password` masked.
    package static func redacted(_ message: String, password: String?) -> String {
        PostgresConnection.redacted(message, password: password)
    }
}
