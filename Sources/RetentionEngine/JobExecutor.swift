package import RetentionRules

/// A store that carries out a whole job itself (an external system through a command) and says
/// what it did; it must be idempotent, as a job interrupted by a crash is sent again.
package protocol JobExecutor: StoreConnection {
    func execute(_ job: Job, change: Change, dataset: Dataset, predicate: RecordPredicate) async throws -> [RecordKey]
}
