package import RetentionRules

/// An open connection to one store: the only way the engine reaches data.
///
/// Every store counts; what else it does is in its roles, and a kind of store conforms to exactly
/// the roles it has: `RecordReader` (SQL tables, directories: keys, single records, earliest
/// anchors), `BatchWriter` (those two again: changes batch by batch), `JobExecutor` (an external
/// system through a command: a whole job at once). Queries run in the store (an indexed range
/// query for SQL, a directory walk for files); nothing loads a dataset into memory.
package protocol StoreConnection: Sendable {
    /// How many records of `dataset` match `predicate`.
    func count(_ dataset: Dataset, where predicate: RecordPredicate) async throws -> Int
    /// `count` for several predicates: planning asks one per stage, and a store may answer them all
    /// in one read with prepared statements.
    func counts(_ dataset: Dataset, where predicates: [RecordPredicate]) async throws -> [Int]
    /// How many records `dataset` holds in all (for the mass-deletion guard).
    func total(_ dataset: Dataset) async throws -> Int
    /// `total`, counted no further than `limit`: exactly `min(total, limit)`. The guard only needs
    /// to know whether the dataset holds enough records for the due ones to be within its share,
    /// which on a big table is far fewer than it holds.
    func total(_ dataset: Dataset, upTo limit: Int) async throws -> Int
    /// What `text`, typed by an operator (a hold, `explain`), names in `dataset`: the key in the
    /// key column's own type and what has it now. Throws KeyError when it cannot be a key there.
    func lookUp(_ dataset: Dataset, typed text: String) async throws -> KeyLookup
    /// Releases the connection.
    func close() async
}
extension StoreConnection {
    /// A store that cannot stop counting early counts everything.
    package func total(_ dataset: Dataset, upTo limit: Int) async throws -> Int {
        min(try await total(dataset), limit)
    }

    package func counts(_ dataset: Dataset, where predicates: [RecordPredicate]) async throws -> [Int] {
        var counts: [Int] = []
        for predicate in predicates { counts.append(try await count(dataset, where: predicate)) }
        return counts
    }
}
