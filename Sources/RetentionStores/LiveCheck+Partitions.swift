package import Foundation
package import RetentionRules
import RetentionEngine

extension LiveCheck {
    /// One line `lint --live` prints of a partitioned table: the path a delete stage due at the
    /// time of the check takes, at the dataset's table.
    package struct PartitionNote: Sendable, Hashable, CustomStringConvertible {
        package var location: SourceLocation
        package var message: String

        package var description: String { "\(location): note: \(message)" }
    }

    /// For each PostgreSQL table that is partitioned, which path each delete stage due at `now`
    /// takes: the partitions it takes whole (with the server's row estimates: reading them is a
    /// scan, which the job does under lock), the others and why. Holds are in the state database,
    /// which lint does not read: the job checks them when it runs (`plan` shows them).
    package func partitionNotes(_ stores: StoreSet, rules: RuleSet, at now: Date) async -> [PartitionNote] {
        var notes: [PartitionNote] = []
        for store in stores.stores where store.kind == .postgres {
            guard let connection = try? await PostgresConnection.open(store: store, passwordFile: connector.postgresPasswordFile, inspecting: true) else {
                continue
            }
            for dataset in store.datasets where dataset.table != nil && connection.tables[dataset.table ?? ""] != nil {
                let policy = DatasetPolicy(store: store, dataset: dataset, rules: rules)
                for stage in policy.stages(at: now) where stage.action == .delete {
                    do {
                        let plan = try await connection.partitionPlan(dataset, where: stage.predicate, checkingRows: false)
                        guard plan.partitioned else { break }
                        notes += plan.describe(detachOnly: dataset.partitions == .detach).map {
                            PartitionNote(location: dataset.location(of: "table"), message: "delete stage of rule \(stage.rule.id): \($0)")
                        }
                    } catch {
                        notes.append(PartitionNote(location: dataset.location(of: "table"),
                                                   message: "rule \(stage.rule.id): cannot read the partitions: \(Self.message(error))"))
                    }
                }
            }
            await connection.close()
        }
        return notes
    }
}
