import RetentionRules

/// How a pass counts the records a job would act on.
///
/// A real pass counts what the store holds now, after its earlier jobs changed it. A dry run
/// changes nothing, so it takes away what the pass's earlier jobs would have taken: records an
/// earlier job would delete are gone for every later job; records one would anonymize (or
/// restrict) are done for later anonymize (restrict) jobs. It counts `p` less `p && (t₁ || t₂ …)`:
/// only `&&` and `||`, which keep SQL's three-valued logic, so a null anchor cannot make a record
/// count twice or not at all. Not followed: an anonymization that changes a column a later rule's
/// `when:` or anchor reads (docs/engine.md § Dry run).
final class PassCounter {
    let dryRun: Bool
    private var taken: [Taken: [RecordPredicate]] = [:]

    private struct Taken: Hashable {
        var store: String
        var dataset: String
        var action: Action
    }

    init(dryRun: Bool) {
        self.dryRun = dryRun
    }

    /// Records of `dataset` matching `predicate` that a job with `action` would act on.
    func count(_ predicate: RecordPredicate, for action: Action, store: String, dataset: Dataset,
               connection: any StoreConnection) async throws -> Int {
        guard let overlap = takenBefore(action, store: store, dataset: dataset.id) else {
            return try await connection.count(dataset, where: predicate)
        }
        let counts = try await connection.counts(dataset, where: [predicate, predicate && overlap])
        return counts[0] - counts[1]
    }

    /// Records in the dataset in all, less what earlier jobs would have deleted.
    func total(store: String, dataset: Dataset, connection: any StoreConnection) async throws -> Int {
        let total = try await connection.total(dataset)
        guard let deleted = takenBefore(.delete, store: store, dataset: dataset.id) else { return total }
        return total - (try await connection.count(dataset, where: deleted))
    }

    /// `total`, counted no further than `limit`: the exact total below it, else `limit` (the
    /// dataset holds at least that many). A dry run counts the records earlier jobs would have
    /// deleted on top, so that what is left is still at least `limit`.
    func total(store: String, dataset: Dataset, connection: any StoreConnection, upTo limit: Int) async throws -> Int {
        guard let deleted = takenBefore(.delete, store: store, dataset: dataset.id) else {
            return try await connection.total(dataset, upTo: limit)
        }
        let gone = try await connection.count(dataset, where: deleted)
        let (bound, overflow) = limit.addingReportingOverflow(gone)
        let all = overflow ? try await connection.total(dataset) : try await connection.total(dataset, upTo: bound)
        return min(all - gone, limit)
    }

    /// A dry run's job would act on `predicate`'s records with `action`.
    func took(_ predicate: RecordPredicate, with action: Action, store: String, dataset: String) {
        guard dryRun else { return }
        taken[Taken(store: store, dataset: dataset, action: action), default: []].append(predicate)
    }

    private func takenBefore(_ action: Action, store: String, dataset: String) -> RecordPredicate? {
        guard dryRun else { return nil }
        let deleted = taken[Taken(store: store, dataset: dataset, action: .delete)] ?? []
        let same = action == .delete ? [] : taken[Taken(store: store, dataset: dataset, action: action)] ?? []
        let all = deleted + same
        return all.isEmpty ? nil : all.dropFirst().reduce(all[0], ||)
    }
}
