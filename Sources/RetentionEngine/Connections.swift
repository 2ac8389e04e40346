import RetentionRules

/// The store connections of one pass or forecast, opened on first use and closed together.
///
/// A class, not shared across tasks: the pass runner and the job runner use the same
/// connections one after the other.
final class Connections {
    let connector: any StoreConnector
    private var open: [String: any StoreConnection] = [:]

    init(connector: any StoreConnector) {
        self.connector = connector
    }

    func connection(to store: Store) async throws -> any StoreConnection {
        if let connection = open[store.id] { return connection }
        let connection = try await connector.connect(to: store)
        open[store.id] = connection
        return connection
    }

    func closeAll() async {
        for connection in open.values { await connection.close() }
        open = [:]
    }

    /// Runs `body` with fresh connections and closes them whatever happens.
    static func using<T>(_ connector: any StoreConnector, _ body: (Connections) async throws -> T) async throws -> T {
        let connections = Connections(connector: connector)
        do {
            let result = try await body(connections)
            await connections.closeAll()
            return result
        } catch {
            await connections.closeAll()
            throw error
        }
    }
}
