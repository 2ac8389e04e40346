package import RetentionRules

/// A store, dataset or key an operator named that the stores files or the store do not have.
package struct UnknownNameError: Error, Sendable, CustomStringConvertible {
    package var message: String

    package var description: String { message }
}

extension Engine {
    /// The store and dataset named, checked against the stores files: a typo is refused with the
    /// file and line of what was meant, never taken for a name that protects nothing.
    package func dataset(store storeID: String, dataset datasetID: String?) throws(UnknownNameError) -> (Store, Dataset?) {
        guard let store = stores[storeID] else {
            let files = stores.files.isEmpty ? "" : " (\(stores.files.joined(separator: ", ")))"
            let near = Suggestion.closest(to: storeID, among: stores.stores.map(\.id))
            let hint = near.flatMap { name in stores[name].map { "; did you mean '\(name)' (\($0.location))?" } } ?? ""
            throw UnknownNameError(message: "no store '\(storeID)' in the stores files\(files)\(hint)")
        }
        guard let datasetID else { return (store, nil) }
        guard let dataset = store.datasets.first(where: { $0.id == datasetID }) else {
            let near = Suggestion.closest(to: datasetID, among: store.datasets.map(\.id))
            let hint = near.flatMap { name in store.datasets.first { $0.id == name }.map { "; did you mean '\(name)' (\($0.location))?" } }
                ?? "; it has \(store.datasets.map(\.id).joined(separator: ", "))"
            throw UnknownNameError(message: "\(store.location): store '\(storeID)' has no dataset '\(datasetID)'\(hint)")
        }
        return (store, dataset)
    }

    /// `text` read as a key of the dataset, in its key column's type, and what has it in the store now.
    package func lookUp(store storeID: String, dataset datasetID: String, typed text: String) async throws -> KeyLookup {
        let (store, named) = try dataset(store: storeID, dataset: datasetID)
        // `dataset(store:dataset:)` returns the dataset whenever one is named.
        guard let dataset = named else { throw UnknownNameError(message: "store '\(storeID)' has no dataset '\(datasetID)'") }
        let connection = try await connector.connect(to: store)
        do {
            let lookup = try await connection.lookUp(dataset, typed: text)
            await connection.close()
            return lookup
        } catch {
            await connection.close()
            throw error
        }
    }
}
