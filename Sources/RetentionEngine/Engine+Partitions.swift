package import Foundation
import RetentionRules

/// One line of what a delete stage would do to a partitioned table (`plan`, `run --dry-run`).
package struct PartitionPathLine: Sendable, Hashable, Encodable {
    package var store: String
    package var dataset: String
    package var rule: String
    /// 1-based, as `plan` shows stages.
    package var stage: Int
    package var text: String

    package init(store: String, dataset: String, rule: String, stage: Int, text: String) {
        self.store = store
        self.dataset = dataset
        self.rule = rule
        self.stage = stage
        self.text = text
    }
}

extension Engine {
    /// Which path each delete stage due at `now` takes through its table: whole partitions (which,
    /// with their rows checked against the stage's predicate and the holds, without locks) or rows
    /// (and why). Only stores with partitions say anything; reads only.
    package func partitionPaths(at now: Date) async throws -> [PartitionPathLine] {
        let holds = try await stateStore.holds()
        return try await Connections.using(connector) { connections in
            var lines: [PartitionPathLine] = []
            for policy in policies where policy.store.kind == .postgres {
                let stages = policy.stages(at: now).filter { $0.action == .delete }
                guard !stages.isEmpty else { continue }
                guard let dropper = try await connections.connection(to: policy.store) as? any PartitionDropper else { continue }
                for stage in stages {
                    let plan = try await dropper.partitionPlan(policy.dataset, where: stage.predicate && policy.excluding(holds), checkingRows: true)
                    lines += plan.describe(detachOnly: policy.dataset.partitions == .detach).map {
                        PartitionPathLine(store: policy.store.id, dataset: policy.dataset.id, rule: stage.rule.id, stage: stage.stageIndex + 1, text: $0)
                    }
                }
            }
            return lines
        }
    }
}
