package import RetentionRules

/// A store whose tables may be partitioned by range on the anchor (PostgreSQL): a delete job takes
/// wholly due partitions whole — detached and dropped, or detached only — instead of deleting
/// their rows batch by batch, and leaves the partition its cutoff cuts through, the default
/// partition and every partition where one row must stay to the batches.
package protocol PartitionDropper: BatchWriter {
    /// Which partitions a delete job with `predicate` may take whole. `checkingRows`: read every
    /// row of those against the predicate (a scan of each, without locks) and give exact counts;
    /// otherwise counts are the store's estimates.
    func partitionPlan(_ dataset: Dataset, where predicate: RecordPredicate, checkingRows: Bool) async throws -> PartitionPlan
    /// Takes `partition` whole if, with the table and the partition locked against every other
    /// session, it is still attached and every row of it matches `predicate`. `recording` gets
    /// the marker (with the row count) before the partition is detached, in the same store
    /// transaction; an error it throws rolls that transaction back. Returns the marker of what was
    /// taken, or why the partition stays for the batches.
    func takeWhole(_ partition: PartitionPlan.Partition, of dataset: Dataset, where predicate: RecordPredicate,
                   recording: (PartitionMarker) async throws -> Void) async throws -> Result<PartitionMarker, PartitionKept>
    /// Whether the partition with this id is still attached to the dataset's table, after any
    /// transaction that held the table locked ended (a crashed drop's commit or rollback).
    func isAttached(_ oid: Int64, to dataset: Dataset) async throws -> Bool
    /// How the dataset's keys are typed: where they are integers, a text batch in flight can only
    /// be a partition marker (an earlier version's too, `PartitionMarker(_:legacy:)`).
    func keyType(_ dataset: Dataset) -> KeyType
}

/// Why a partition was not taken whole; its rows are left to the batches.
package struct PartitionKept: Error, Sendable, Hashable, CustomStringConvertible {
    package var reason: String

    package init(_ reason: String) { self.reason = reason }

    package var description: String { reason }
}
