import Foundation
import PostgresNIO
import RetentionEngine
import RetentionRules

/// Partitions of a table partitioned by range on the anchor (`PARTITION BY RANGE (created_at)`),
/// read from `pg_partitioned_table`, `pg_inherits` and `pg_get_expr(relpartbound, oid)`.
///
/// A partition is taken whole only when its range ends at or before the job's cutoff (so a row
/// inserted into that range later would be due too) and, with the table and the partition locked
/// (`ACCESS EXCLUSIVE`, in the transaction that detaches it, so that no row comes in between),
/// every row of it matches the job's predicate: the one its batches use, with the holds, the
/// rule's condition and every other rule that keeps a record in it. When that predicate is the
/// anchor test alone, the partition's bound proves it for every row and its rows are only counted
/// (`everyRowDue`); otherwise each row is read against it (`census`).
extension PostgresConnection: PartitionDropper {
    /// How long taking a partition waits for the table's lock before it leaves the partition to
    /// the batches: while it waits, every later query of the table queues behind it.
    static let partitionLockTimeout = "5s"

    func partitionPlan(_ dataset: Dataset, where predicate: RecordPredicate, checkingRows: Bool) async throws -> PartitionPlan {
        let anchorAndCutoff = Self.anchorAndCutoff(of: predicate)
        if let why = try await notPartitioned(dataset, on: anchorAndCutoff?.0) {
            return PartitionPlan(rowsOnly: why.reason, partitioned: why.partitioned)
        }
        if dataset.partitions == .rows { return PartitionPlan(rowsOnly: "the dataset says 'partitions: rows'") }
        guard let (anchor, cutoff) = anchorAndCutoff else {
            return PartitionPlan(rowsOnly: "the job's records are not one anchor column before one cutoff")
        }
        var entries: [PartitionPlan.Entry] = []
        for (partition, kind, owned) in try await partitions(of: dataset) {
            var path: PartitionPlan.Path
            do {
                path = try await self.path(of: partition, kind: kind, dataset, anchor: anchor, cutoff: cutoff)
            } catch {
                path = .rows("its bound cannot be compared with the cutoff: \((error as? StoreError)?.message ?? "\(error)")")
            }
            if path == .whole, !owned { path = .rows("retentiond's role does not own it, and only its owner may drop it") }
            var partition = partition
            if path == .whole, checkingRows {
                var due = false
                if let key = try await attachedKey(partition, to: table(dataset)) { due = try await everyRowDue(key, dataset, predicate) }
                let (rows, staying) = due ? (try await count(partition), 0) : try await census(partition, dataset, predicate)
                partition.rows = rows
                if staying > 0 { path = .rows(Self.staying(staying, of: rows)) }
            }
            entries.append(PartitionPlan.Entry(partition, path))
        }
        return PartitionPlan(rowsOnly: nil, entries: entries, checked: checkingRows)
    }

    func takeWhole(_ partition: PartitionPlan.Partition, of dataset: Dataset, where predicate: RecordPredicate,
                   recording: (PartitionMarker) async throws -> Void) async throws -> Result<PartitionMarker, PartitionKept> {
        let parent = table(dataset)
        return try await inPartitionTransaction {
            _ = try await query("SET LOCAL lock_timeout = '\(Self.partitionLockTimeout)'", [])
            // The table first, then the partition: an INSERT through the table locks them in this order too.
            _ = try await query("LOCK TABLE ONLY \(parent) IN ACCESS EXCLUSIVE MODE", [])
            _ = try await query("LOCK TABLE ONLY \(partition.name) IN ACCESS EXCLUSIVE MODE", [])
            guard let key = try await attachedKey(partition, to: parent) else {
                return .failure(PartitionKept("no longer a partition of \(parent)"))
            }
            let (rows, staying) = try await everyRowDue(key, dataset, predicate)
                ? (try await count(partition), 0) : try await census(partition, dataset, predicate)
            if staying > 0 { return .failure(PartitionKept(Self.staying(staying, of: rows))) }
            let marker = PartitionMarker(oid: partition.oid, rows: rows, name: partition.name)
            try await recording(marker)
            _ = try await query("ALTER TABLE \(parent) DETACH PARTITION \(partition.name)", [])
            if dataset.partitions == .drop { _ = try await query("DROP TABLE \(partition.name)", []) }
            return .success(marker)
        }
    }

    func isAttached(_ oid: Int64, to dataset: Dataset) async throws -> Bool {
        let parent = table(dataset)
        return try await inPartitionTransaction {
            // Waits for the transaction of a crashed drop, which holds the table, to commit or roll back.
            _ = try await query("LOCK TABLE ONLY \(parent) IN ACCESS SHARE MODE", [])
            let rows = try await query("SELECT count(*)::text FROM pg_inherits WHERE inhrelid = $1::bigint::oid AND inhparent = $2::text::regclass",
                                       [.integer(oid), .text(parent)])
            return (rows.first?.first ?? nil) != "0"
        }
    }

    /// The rows of a partition, and how many of them the predicate does not take: a scan that
    /// reads every row, for what `everyRowDue` cannot prove from the partition's bound.
    func census(_ partition: PartitionPlan.Partition, _ dataset: Dataset, _ predicate: RecordPredicate) async throws -> (rows: Int, staying: Int) {
        let filter = dialect(dataset).render(predicate)
        let rows = try await query("""
            SELECT count(*)::text, (count(*) FILTER (WHERE (\(filter.sql)) IS NOT TRUE))::text FROM ONLY \(partition.name)
            """, filter.binds)
        guard let row = rows.first, let all = row[0].flatMap({ Int($0) }), let staying = row[1].flatMap({ Int($0) }) else {
            throw StoreError(store: store.id, message: "counting the rows of partition \(partition.name) gave no count")
        }
        return (all, staying)
    }

    private static func staying(_ staying: Int, of rows: Int) -> String {
        "\(staying) of its \(rows) rows must stay (a hold, the rule's condition or another rule keeps them)"
    }

    /// Why the dataset's table cannot lose partitions whole to a job on `anchor`, and whether it
    /// is partitioned at all; nil when it can.
    private func notPartitioned(_ dataset: Dataset, on anchor: String?) async throws -> (reason: String, partitioned: Bool)? {
        let parent = table(dataset)
        let rows = try await query("""
            SELECT p.partstrat::text, p.partnatts::text, a.attname::text, pg_has_role(c.relowner, 'USAGE')::text
            FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
                 LEFT JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
            WHERE p.partrelid = $1::text::regclass
            """, [.text(parent)])
        guard let row = rows.first else { return ("table \(parent) is not partitioned", false) }
        if row[0] != "r" { return ("table \(parent) is partitioned by \(row[0] == "l" ? "list" : "hash"), not by range", true) }
        if row[1] != "1" || row[2] == nil { return ("table \(parent) is partitioned on more than one column or on an expression", true) }
        guard let anchor else { return nil }
        if row[2] != anchor { return ("table \(parent) is partitioned on column \(row[2] ?? ""), not on the anchor column \(anchor)", true) }
        if row[3] != "true" { return ("retentiond's role does not own table \(parent), and only its owner may detach a partition", true) }
        return nil
    }

    /// The table's partitions with their kind (`r` a table, `p` itself partitioned, `f` foreign)
    /// and whether retentiond's role owns them.
    private func partitions(of dataset: Dataset) async throws -> [(PartitionPlan.Partition, kind: String, owned: Bool)] {
        let rows = try await query("""
            SELECT c.oid::bigint::text, format('%I.%I', n.nspname, c.relname), c.relkind::text,
                   COALESCE(pg_get_expr(c.relpartbound, c.oid), ''), c.reltuples::bigint::text, pg_has_role(c.relowner, 'USAGE')::text
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE i.inhparent = $1::text::regclass ORDER BY 2
            """, [.text(table(dataset))])
        return rows.compactMap { row in
            guard let oid = row[0].flatMap({ Int64($0) }), let name = row[1] else { return nil }
            return (PartitionPlan.Partition(oid: oid, name: name, bound: row[3] ?? "", rows: row[4].flatMap { Int($0) }.flatMap { $0 < 0 ? nil : $0 }),
                    row[2] ?? "", row[5] == "true")
        }
    }

    /// Where a partition's range lies against the cutoff, compared by PostgreSQL in the anchor's type.
    private func path(of partition: PartitionPlan.Partition, kind: String, _ dataset: Dataset, anchor: String, cutoff: Date) async throws -> PartitionPlan.Path {
        if partition.bound == "DEFAULT" { return .rows("the default partition") }
        guard let (lower, upper) = Self.rangeBounds(partition.bound) else { return .rows("a bound retentiond does not read") }
        let cut = dialect(dataset).bind(anchor, cutoff)
        let type = self.type(dataset, anchor)
        func test(_ literal: String, _ op: String) async throws -> Bool {
            let rows = try await query("SELECT (CAST($1::text AS \(type)) \(op) $2)::text", [.text(literal), cut])
            return rows.first?.first ?? nil == "true"
        }
        if let lower, try await !test(lower, "<") { return .notDue }
        guard let upper, try await test(upper, "<=") else { return .rows("the cutoff cuts through it") }
        switch kind {
        case "r": return .whole
        case "p": return .rows("itself partitioned")
        default: return .rows("not a plain table (relkind \(kind))")
        }
    }

    /// The literals of `FOR VALUES FROM (lower) TO (upper)` of one column; nil for `MINVALUE` and
    /// `MAXVALUE`. Nil altogether when the bound is not of that form.
    static func rangeBounds(_ bound: String) -> (lower: String?, upper: String?)? {
        let from = "FOR VALUES FROM (", to = ") TO ("
        guard bound.hasPrefix(from), bound.hasSuffix(")"), let middle = bound.range(of: to) else { return nil }
        let lower = String(bound[bound.index(bound.startIndex, offsetBy: from.count)..<middle.lowerBound])
        let upper = String(bound[middle.upperBound..<bound.index(before: bound.endIndex)])
        func literal(_ text: String) -> String? {
            if text == "MINVALUE" || text == "MAXVALUE" { return nil }
            guard text.hasPrefix("'"), text.hasSuffix("'"), text.count >= 2 else { return text }
            return String(text.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
        }
        return (literal(lower), literal(upper))
    }

    /// The one anchor column and cutoff of a predicate that is (or ANDs) `column < cutoff`.
    static func anchorAndCutoff(of predicate: RecordPredicate) -> (String, Date)? {
        let items: [RecordPredicate]
        if case .and(let all) = predicate { items = all } else { items = [predicate] }
        let tests = items.compactMap { item -> (String, Date)? in
            if case .before(let columns, let cutoff) = item, columns.count == 1 { return (columns[0], cutoff) }
            return nil
        }
        return tests.count == 1 ? tests[0] : nil
    }

    /// Runs `body` in a transaction; a failure of BEGIN, COMMIT or ROLLBACK comes out as a
    /// `StoreError` saying which.
    private func inPartitionTransaction<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await connection.withTransaction(logger: logger) { _ in try await body() }
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError { throw inner }
            let cause = error.beginError ?? error.commitError ?? error.rollbackError
            let message = (cause as? PSQLError)?.serverInfo?[.message] ?? cause.map { String(reflecting: $0) } ?? "unknown error"
            throw StoreError(store: store.id, message: "\(message) (a transaction taking a partition whole)")
        }
    }
}
