package import RetentionRules

/// Opens connections to stores; the engine does not know the kinds' libraries.
package protocol StoreConnector: Sendable {
    func connect(to store: Store) async throws -> any StoreConnection
}
