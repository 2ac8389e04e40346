/// How a delete job goes through a table partitioned by range on its anchor: which partitions it
/// may take whole (detach, and drop unless the dataset says `partitions: detach`), and which it
/// leaves to the row-by-row batches, each with why. `lint --live`, `plan` and the job itself read
/// the same plan; the job checks each whole partition again under lock before it takes it.
package struct PartitionPlan: Sendable, Hashable {
    /// One partition of the table, as the store names it.
    package struct Partition: Sendable, Hashable {
        /// The store's id of the partition (PostgreSQL: its `pg_class` oid), which a name reused
        /// after a drop does not share: a crashed drop is settled by it.
        package var oid: Int64
        /// Its schema-qualified name, quoted as the store needs it.
        package var name: String
        /// Its bound as the store prints it (`FOR VALUES FROM (…) TO (…)`, `DEFAULT`).
        package var bound: String
        /// Its rows: exact when the plan checked them, the store's estimate otherwise; nil when
        /// the store has none yet (a table never analyzed).
        package var rows: Int?

        package init(oid: Int64, name: String, bound: String, rows: Int?) {
            self.oid = oid
            self.name = name
            self.bound = bound
            self.rows = rows
        }
    }

    /// What happens to one partition.
    package enum Path: Sendable, Hashable {
        /// Taken whole: its range is due and (as far as checked) every row may go.
        case whole
        /// Its due rows go through the batches, for this reason.
        case rows(String)
        /// Nothing in it is due yet: its range starts at or after the cutoff.
        case notDue
    }

    package struct Entry: Sendable, Hashable {
        package var partition: Partition
        package var path: Path

        package init(_ partition: Partition, _ path: Path) {
            self.partition = partition
            self.path = path
        }
    }

    /// Why the whole table goes row by row (not partitioned, partitioned on another column, the
    /// job not a delete up to one cutoff on one anchor, `partitions: rows`); nil when partitions
    /// may go whole.
    package var rowsOnly: String?
    /// The table's partitions, in the store's order, each with its path.
    package var entries: [Entry]
    /// Whether `rows` counts were checked (every row read against the job's predicate) or estimated.
    package var checked: Bool
    /// Whether the table is partitioned at all (`lint --live` says nothing of one that is not).
    package var partitioned: Bool

    package init(rowsOnly: String?, entries: [Entry] = [], checked: Bool = false, partitioned: Bool = true) {
        self.rowsOnly = rowsOnly
        self.entries = entries
        self.checked = checked
        self.partitioned = partitioned
    }

    /// The partitions the job may take whole.
    package var whole: [Partition] { entries.filter { $0.path == .whole }.map(\.partition) }

    /// One line per partition that is due in part or whole, for `lint --live`, `plan` and dry runs.
    package func describe(detachOnly: Bool) -> [String] {
        if let rowsOnly { return ["rows (no partition taken whole): \(rowsOnly)"] }
        let rows = checked ? "rows" : "rows (estimate)"
        var lines: [String] = []
        for entry in entries {
            let name = "\(entry.partition.name) \(entry.partition.bound)"
            switch entry.path {
            case .whole:
                let count = entry.partition.rows.map { "\($0) \(rows)" } ?? "rows not estimated yet (ANALYZE the table)"
                lines.append("whole partition (\(detachOnly ? "detached" : "dropped")): \(name), \(count)")
            case .rows(let why): lines.append("rows: \(name): \(why)")
            case .notDue: break
            }
        }
        let notDue = entries.filter { $0.path == .notDue }.count
        if notDue > 0 { lines.append("\(notDue) partition\(notDue == 1 ? "" : "s") not due yet") }
        return lines
    }
}
