import Foundation
import RetentionEngine
import RetentionRules

/// When a partition's own bound proves that every row of it is due, so that taking it whole needs
/// its row count and not a check of each row against the job's predicate.
///
/// The proof holds only for a job whose predicate is the anchor test alone, `anchor < cutoff AND
/// anchor >= 0001-01-01` (`RecordPredicate.before` on one column, as `SQLDialect` renders it): no
/// hold on a record (`keyNotIn`), no `when:` (`condition`), no other rule that keeps a record in
/// another way than by the same anchor (rules on the same anchor without a condition fold into the
/// one test with the earliest cutoff). Every row of a range partition `FROM (lower) TO (upper)`
/// has `lower <= anchor < upper` and a non-null anchor (PostgreSQL sends nulls to the default
/// partition); with `lower` not before year 1 and `upper` not after the cutoff, both halves of the
/// test hold for each. A hold on the whole dataset pauses the job before any partition is taken.
///
/// The bound and the table's key are read again under the locks that the drop takes: a partition
/// detached and attached again with another range keeps its oid.
extension PostgresConnection {
    /// The partition's bound and its table's partition key, as the catalog says now.
    struct PartitionKey: Sendable {
        var bound: String
        /// The one column of a range key; nil for any other key (list, hash, several columns, an expression).
        var rangeColumn: String?
        /// The column's type, as `format_type` prints it.
        var type: String
        /// Whether the key orders by its type's default operator class, as `<` in a query does.
        var defaultOrder: Bool
    }

    /// Types whose order in a partition bound and in the predicate's comparison is the same: no
    /// collation, and a UTC session makes the conversion to the bound cutoff monotonic.
    static let orderedTimeTypes: Set<String> = ["timestamp with time zone", "timestamp without time zone", "date"]

    /// Nil when the partition is no longer attached to `parent` under its name.
    func attachedKey(_ partition: PartitionPlan.Partition, to parent: String) async throws -> PartitionKey? {
        let rows = try await query("""
            SELECT COALESCE(pg_get_expr(c.relpartbound, c.oid), ''), CASE WHEN p.partstrat = 'r' AND p.partnatts = 1 THEN a.attname::text END,
                   COALESCE(format_type(a.atttypid, NULL), ''), COALESCE(o.opcdefault, false)::text
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_partitioned_table p ON p.partrelid = i.inhparent
                 LEFT JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
                 LEFT JOIN pg_opclass o ON o.oid = p.partclass[0]
            WHERE i.inhrelid = $1::bigint::oid AND i.inhparent = $2::text::regclass AND $3::text::regclass = $1::bigint::oid
            """, [.integer(partition.oid), .text(parent), .text(partition.name)])
        guard rows.count == 1, let row = rows.first else { return nil }
        return PartitionKey(bound: row[0] ?? "", rangeColumn: row[1], type: row[2] ?? "", defaultOrder: row[3] == "true")
    }

    /// Whether the partition's bound proves every row of it matches `predicate` (see the extension's comment).
    func everyRowDue(_ key: PartitionKey, _ dataset: Dataset, _ predicate: RecordPredicate) async throws -> Bool {
        guard let (anchor, cutoff) = Self.anchorTestAlone(predicate), key.rangeColumn == anchor, key.defaultOrder,
              Self.orderedTimeTypes.contains(key.type),
              let bounds = Self.rangeBounds(key.bound), let lower = bounds.lower, let upper = bounds.upper else { return false }
        let dialect = dialect(dataset)
        let rows = try await query("""
            SELECT (CAST($1::text AS \(key.type)) >= $2 AND CAST($3::text AS \(key.type)) <= $4)::text
            """, [.text(lower), dialect.bind(anchor, RepresentableInstants.earliest), .text(upper), dialect.bind(anchor, cutoff)])
        return (rows.first?.first ?? nil) == "true"
    }

    /// The anchor column and cutoff of a predicate that is the anchor test and nothing else.
    static func anchorTestAlone(_ predicate: RecordPredicate) -> (column: String, cutoff: Date)? {
        guard case .before(let columns, let cutoff) = predicate, columns.count == 1 else { return nil }
        return (columns[0], cutoff)
    }

    /// The partition's rows, exactly: a scan still (of its smallest index when the visibility map
    /// allows), but not of the predicate.
    func count(_ partition: PartitionPlan.Partition) async throws -> Int {
        let rows = try await query("SELECT count(*)::text FROM ONLY \(partition.name)", [])
        guard let count = rows.first?.first.flatMap({ $0.flatMap { Int($0) } }) else {
            throw StoreError(store: store.id, message: "counting the rows of partition \(partition.name) gave no count")
        }
        return count
    }
}
