public import RetentionRules

/// Opens connections to stores; the engine does not know the kinds' libraries.
public protocol StoreConnector: Sendable {
    func connect(to store: Store) async throws -> any StoreConnection
}
