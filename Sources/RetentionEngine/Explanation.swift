package import Foundation
import RetentionRules

/// Why one record is kept, or when and under which rule it goes: every rule with its kind, which
/// one decides, an erasure deferred by an obligation, a hold.
package struct Explanation: Sendable {
    package var store: String
    package var dataset: String
    package var key: RecordKey
    package var at: Date
    /// The record's mapped columns.
    package var record: [String: StoreValue]
    /// The decision at `at`, rule by rule (holds left out: they are listed on their own).
    package var decision: RecordDecision
    /// Holds covering the record.
    package var holds: [Hold]
    /// The first instant the record is deleted if nothing changes, and under which rule (now, when
    /// it is due now).
    package var deletion: (rule: String, at: Date)?

    /// Every rule bound to the dataset, as it stands for the record.
    package var verdicts: [RecordDecision.RuleState] { decision.rules }
}

extension Engine {
    /// Every rule bound to one record's dataset, its kind, due instants and claim, which one
    /// decides and why, and any hold — read from the store, decided by the model the planner's
    /// queries are held to (`RecordDecision`).
    package func explain(store storeID: String, dataset datasetID: String, key: RecordKey, at now: Date) async throws -> Explanation? {
        guard let store = stores[storeID] else { throw StoreError(store: storeID, message: "no such store in the stores files") }
        guard let dataset = store.datasets.first(where: { $0.id == datasetID }) else {
            throw StoreError(store: storeID, message: "no dataset '\(datasetID)' (it has \(store.datasets.map(\.id).joined(separator: ", ")))")
        }
        let policy = DatasetPolicy(store: store, dataset: dataset, rules: rules)
        let found = try await Connections.using(connector) { connections in
            guard let reader = try await connections.connection(to: store) as? any RecordReader else {
                throw StoreError(store: storeID, message: "a \(store.kind.rawValue) store cannot show single records")
            }
            return try await reader.record(dataset, key: key).map { ($0, reader.codec) }
        }
        guard let (record, codec) = found else { return nil }
        let holds = try await stateStore.holds().filter {
            switch $0.scope {
            case .record(let s, let d, let k): s == storeID && d == datasetID && k.holds(key, paths: store.kind == .files)
            default: $0.scope.covers(store: storeID, dataset: datasetID)
            }
        }
        let decision = RecordDecision(policy: policy, record: record, key: key, at: now, codec: codec)
        var deletion: (rule: String, at: Date)?
        if case .deleted(let rule, _) = decision.outcome {
            deletion = (rule, now)
        } else {
            deletion = RecordDecision.nextDeletion(policy: policy, record: record, key: key, after: now, codec: codec)
        }
        return Explanation(store: storeID, dataset: datasetID, key: key, at: now, record: record, decision: decision,
                           holds: holds, deletion: deletion)
    }
}
