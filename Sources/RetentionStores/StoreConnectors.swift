import Foundation
package import RetentionEngine
package import RetentionRules

/// Opens connections for every kind of store.
package struct StoreConnectors: StoreConnector {
    /// The PostgreSQL password, from a file or the systemd credential `postgres-password`.
    var postgresPasswordFile: String?
    /// Seconds a command store may take per job when its stores file does not say.
    var defaultCommandTimeout = 300

    package init(postgresPasswordFile: String? = nil) {
        self.postgresPasswordFile = postgresPasswordFile
    }

    package func connect(to store: Store) async throws -> any StoreConnection {
        switch store.kind {
        case .sqlite: return try SQLiteConnection(store: store, path: Self.resolve(store.path ?? "", for: store))
        case .files: return try FilesConnection(store: store, root: Self.resolve(store.path ?? "", for: store))
        case .postgres: return try await PostgresConnection.open(store: store, passwordFile: postgresPasswordFile)
        case .command:
            return CommandConnection(store: store, executable: Self.resolve(store.exec ?? "", for: store),
                                     timeout: store.timeoutSeconds ?? defaultCommandTimeout)
        }
    }

    /// A relative path in a stores file is relative to that file's directory.
    static func resolve(_ path: String, for store: Store) -> String {
        store.resolve(path)
    }
}
