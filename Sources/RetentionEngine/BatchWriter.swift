package import RetentionRules

/// A store the engine changes batch by batch, each batch re-checked key by key against the
/// predicate in one transaction of the store.
package protocol BatchWriter: RecordReader {
    /// Applies `change` to those of `keys` that still match `predicate`, in one transaction;
    /// returns the keys changed.
    func apply(_ change: Change, to dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey]
    /// As `apply`, with `beforeCommit` run inside the store's transaction once the batch is applied
    /// and before it commits: when it throws (a daemon fenced off its job on a shared state), the
    /// transaction is rolled back and the error comes out as itself. A store that has no such
    /// transaction runs it before touching anything (the default).
    func apply(_ change: Change, to dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate,
               beforeCommit: @Sendable () async throws -> Void) async throws -> [RecordKey]
    /// True when a deleted record is gone from the store, index entries and all (SQL stores): a
    /// delete job's batches then ask for the first matching keys in whatever order the store finds
    /// them fastest (the anchor's index range), without `after`. Anonymized and restricted records
    /// stay in the anchor's index, where each batch would walk past all those done before, so
    /// those jobs continue after the last key; so do files stores, which skip locked files.
    var resumesByPredicate: Bool { get }
    /// True when applying a batch keeps other writers waiting (SQL stores: a transaction's locks),
    /// so batches are kept short; a files store blocks nobody, and its batches may be longer.
    var blocksWriters: Bool { get }
    /// Called after a job finished (files: remove emptied directories).
    func finish(_ dataset: Dataset) async throws
}
extension BatchWriter {
    package var resumesByPredicate: Bool { false }
    package var blocksWriters: Bool { false }
    package func finish(_ dataset: Dataset) async throws {}

    package func apply(_ change: Change, to dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate,
                       beforeCommit: @Sendable () async throws -> Void) async throws -> [RecordKey] {
        try await beforeCommit()
        return try await apply(change, to: dataset, keys: keys, where: predicate)
    }
}
