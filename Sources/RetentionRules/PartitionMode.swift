/// What a delete job does with a partition of a PostgreSQL table, partitioned by range on the
/// anchor, whose whole range is due and whose every row the job may delete (`partitions:` on a
/// dataset).
package enum PartitionMode: String, Sendable, Hashable, CaseIterable {
    /// Detach it and drop it: the rows are gone in one statement, without a row-by-row delete.
    case drop
    /// Only detach it: the table stays, out of the dataset, for operators who archive it first.
    case detach
    /// Never: every row goes through the batches, as in a table that is not partitioned.
    case rows
}
