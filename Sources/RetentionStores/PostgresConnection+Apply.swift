import Foundation
import PostgresNIO
import RetentionEngine
import RetentionRules

/// A batch applied to PostgreSQL in one transaction, in which each listed key is changed only if
/// it still matches the predicate.
///
/// A delete or restrict batch is one statement, which PostgreSQL runs as a transaction of its own:
/// one round trip, where BEGIN and COMMIT around it would be two more. An anonymization reads and
/// writes row by row in postgres-nio's `withTransaction`.
extension PostgresConnection {
    func apply(_ change: Change, to dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey] {
        guard !keys.isEmpty else { return [] }
        if case .anonymize = change { return try await inTransaction { try await changes(change, dataset, keys, predicate) } }
        return try await changes(change, dataset, keys, predicate)
    }

    /// On a shared state, the batch is BEGIN … changes … the state's conditional write … COMMIT:
    /// a daemon that lost its claim meanwhile rolls its batch back rather than commit it. (One
    /// round trip more than the single statement a daemon of its own state sends.)
    func apply(_ change: Change, to dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate,
               beforeCommit: @Sendable () async throws -> Void) async throws -> [RecordKey] {
        guard !keys.isEmpty else {
            try await beforeCommit()
            return []
        }
        return try await inTransaction {
            // A daemon frozen (SIGSTOP) between its last state write and COMMIT must not commit
            // after another daemon took the job over and settled the batch: the server ends the
            // idle transaction first, well within the claim's lease (30 s by default).
            _ = try await query("SET LOCAL idle_in_transaction_session_timeout = '\(Self.frozenBatchTimeout)'", [])
            let changed = try await changes(change, dataset, keys, predicate)
            try await beforeCommit()
            return changed
        }
    }

    /// How long a fenced batch's transaction may sit idle before the server aborts it: below the
    /// shortest claim lease a production daemon uses.
    static let frozenBatchTimeout = "5s"

    /// The batch's statements, within a transaction the caller began (or as one of their own).
    private func changes(_ change: Change, _ dataset: Dataset, _ keys: [RecordKey], _ predicate: RecordPredicate) async throws -> [RecordKey] {
        switch change {
        case .delete:
            let (clause, binds) = scope(dataset, keys, predicate, after: 0)
            return try await changed(dataset, keys, by: "DELETE FROM \(table(dataset)) WHERE \(clause)", binds)
        case .restrict(let column, let at):
            let (clause, binds) = scope(dataset, keys, predicate, after: 1)
            return try await changed(dataset, keys, by: "UPDATE \(table(dataset)) SET \(SQLIdentifier.quoted(column)) = $1 WHERE \(clause)",
                                     [.date(at)] + binds)
        case .anonymize(let strategies, let marker, let at, let hmacKey):
            return try await anonymize(dataset, keys, predicate, strategies: strategies, marker: marker, at: at, hmacKey: hmacKey)
        }
    }

    /// Runs `body` in a transaction; an error of `body` comes out as itself (a `StoreError` with
    /// the statement), one of BEGIN, COMMIT or ROLLBACK as a `StoreError` saying which failed.
    private func inTransaction<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await connection.withTransaction(logger: logger) { _ in try await body() }
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError { throw inner }
            let (step, cause) = error.beginError.map { ("BEGIN", $0) } ?? error.commitError.map { ("COMMIT", $0) }
                ?? ("ROLLBACK", error.rollbackError as (any Error)?)
            let message = (cause as? PSQLError)?.serverInfo?[.message] ?? cause.map { String(reflecting: $0) } ?? "unknown error"
            throw StoreError(store: store.id, message: "\(message) (\(step))")
        }
    }

    /// The batch's keys that still match the predicate, as SQL after `base` earlier placeholders.
    private func scope(_ dataset: Dataset, _ keys: [RecordKey], _ predicate: RecordPredicate, after base: Int) -> (String, [StoreValue]) {
        let list = dialect(dataset).membership(keys, column: key(dataset), placeholderBase: base)
        let filter = dialect(dataset).render(predicate, placeholderBase: base + list.binds.count)
        return ("\(list.sql) AND \(filter.sql)", list.binds + filter.binds)
    }

    /// Runs a DELETE or UPDATE `statement` and returns the keys it changed.
    ///
    /// The statement changes only listed keys, each at most once: when it changed as many rows as
    /// keys were listed, it changed exactly them, and only the count crosses the wire. Otherwise
    /// the keys it changed come back too — from a subquery that CASE runs only then, so that a
    /// batch of 50,000 keys does not build their list in vain.
    private func changed(_ dataset: Dataset, _ keys: [RecordKey], by statement: String, _ binds: [StoreValue]) async throws -> [RecordKey] {
        let statement = statement + " RETURNING \(key(dataset)) AS retentiond_key"
        guard integerKeys(dataset) else {
            return try await query("WITH changed AS (\(statement)) SELECT retentiond_key::text FROM changed", binds).map { recordKey(dataset, $0[0]) }
        }
        let binds = binds + [.integer(Int64(keys.count))]
        let rows = try await query("""
            WITH changed AS (\(statement))
            SELECT count(*)::text, CASE WHEN count(*) < $\(binds.count) THEN (SELECT string_agg(retentiond_key::text, ',') FROM changed) END
            FROM changed
            """, binds)
        if rows.first?[0].flatMap({ Int($0) }) ?? 0 == keys.count { return keys }
        return (rows.first?[1] ?? nil).map { $0.split(separator: ",").compactMap { Int64($0) }.map(RecordKey.integer) } ?? []
    }

    /// Anonymizes the batch's records that still match, row by row (each strategy sees the old
    /// value), locking them first.
    private func anonymize(_ dataset: Dataset, _ keys: [RecordKey], _ predicate: RecordPredicate,
                           strategies: [String: AnonymizationStrategy], marker: String?, at: Date, hmacKey: HMACKey?) async throws -> [RecordKey] {
        let columns = strategies.keys.sorted()
        let (clause, binds) = scope(dataset, keys, predicate, after: 0)
        let select = "SELECT \(key(dataset))::text, " + columns.map { SQLIdentifier.quoted($0) + "::text" }.joined(separator: ", ")
            + " FROM \(table(dataset)) WHERE \(clause) FOR UPDATE"
        var assignments = columns.enumerated().map { index, column in
            "\(SQLIdentifier.quoted(column)) = CAST($\(index + 1)::text AS \(type(dataset, column)))"
        }
        if let marker { assignments.append("\(SQLIdentifier.quoted(marker)) = $\(columns.count + 1)") }
        let keyPlaceholder = "$\(columns.count + (marker == nil ? 1 : 2))"
        let update = "UPDATE \(table(dataset)) SET \(assignments.joined(separator: ", ")) WHERE \(key(dataset)) = \(keyPlaceholder)"
        var changed: [RecordKey] = []
        for row in try await query(select, binds) {
            var values: [StoreValue] = []
            for (index, column) in columns.enumerated() {
                guard let strategy = strategies[column] else { continue }
                switch try Anonymizer.apply(strategy, to: value(dataset, column, row[index + 1]), key: hmacKey) {
                case .null: values.append(.null)
                case .date(let date): values.append(.text(InstantText.civil(date)))
                case let other: values.append(.text(other.description))
                }
            }
            if marker != nil { values.append(.date(at)) }
            let key = recordKey(dataset, row[0])
            values.append(SQLDialect.bind(key))
            _ = try await query(update, values)
            changed.append(key)
        }
        return changed
    }
}
