package import Foundation
package import RetentionRules

/// What a job does to each record of a batch.
package enum Change: Sendable, Hashable {
    case delete
    /// Replaces columns per strategy and sets `markColumn` (if any) to `at`.
    case anonymize(strategies: [String: AnonymizationStrategy], markColumn: String?, at: Date, hmacKey: HMACKey?)
    /// Sets `column` to `at`.
    case restrict(column: String, at: Date)
}

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
    /// What `text`, typed by an operator (a hold, `explain`), names in `dataset`: the key in the
    /// key column's own type and what has it now. Throws KeyError when it cannot be a key there.
    func lookUp(_ dataset: Dataset, typed text: String) async throws -> KeyLookup
    /// Releases the connection.
    func close() async
}

/// A store whose records the engine can name and read: keys in the store's own order, single
/// records, the earliest anchor of a selection (for forecasts and deadlines).
package protocol RecordReader: StoreConnection {
    /// Up to `limit` keys matching `predicate`, from `start`.
    func keys(_ dataset: Dataset, where predicate: RecordPredicate, from start: BatchStart, limit: Int) async throws -> [RecordKey]
    /// Which of `keys` still match `predicate`.
    func matching(_ dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey]
    /// The mapped columns of one record, or nil if there is none with that key.
    func record(_ dataset: Dataset, key: RecordKey) async throws -> [String: StoreValue]?
    /// What the store means by the values `record` returns: which are times, how its queries
    /// order them.
    var codec: any StoreCodec { get }
    /// The earliest value of `column` among records matching `predicate`.
    func earliest(_ dataset: Dataset, column: String, where predicate: RecordPredicate) async throws -> Date?
    /// `earliest` for several column and predicate pairs, likewise answered in one read where the
    /// store can.
    func earliest(_ dataset: Dataset, of queries: [EarliestQuery]) async throws -> [Date?]
}

/// A store the engine changes batch by batch, each batch re-checked key by key against the
/// predicate in one transaction of the store.
package protocol BatchWriter: RecordReader {
    /// Applies `change` to those of `keys` that still match `predicate`, in one transaction;
    /// returns the keys changed.
    func apply(_ change: Change, to dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey]
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

/// A store that carries out a whole job itself (an external system through a command) and says
/// what it did; it must be idempotent, as a job interrupted by a crash is sent again.
package protocol JobExecutor: StoreConnection {
    func execute(_ job: Job, change: Change, dataset: Dataset, predicate: RecordPredicate) async throws -> [RecordKey]
}

/// A key typed by an operator, read as the store reads its keys.
package struct KeyLookup: Sendable, Hashable {
    /// What has the key in the store now.
    package enum Found: Sendable, Hashable {
        case record
        /// A directory of a files store: a hold on it holds every file below it.
        case directory
        case nothing
    }

    package var key: RecordKey
    package var type: KeyType
    package var found: Found

    package init(key: RecordKey, type: KeyType, found: Found) {
        self.key = key
        self.type = type
        self.found = found
    }
}

/// Where a batch's keys start.
package enum BatchStart: Sendable, Hashable {
    /// The first matching keys in whatever order the store finds them fastest (delete jobs on
    /// stores that `resumesByPredicate`).
    case anywhere
    /// In key order, after this key; nil: from the first.
    case after(RecordKey?)
}

/// One question for `earliest`: the earliest `column` among records matching `predicate`.
package struct EarliestQuery: Sendable, Hashable {
    package var column: String
    package var predicate: RecordPredicate

    package init(column: String, predicate: RecordPredicate) {
        self.column = column
        self.predicate = predicate
    }
}

extension StoreConnection {
    package func counts(_ dataset: Dataset, where predicates: [RecordPredicate]) async throws -> [Int] {
        var counts: [Int] = []
        for predicate in predicates { counts.append(try await count(dataset, where: predicate)) }
        return counts
    }
}

extension RecordReader {
    package func earliest(_ dataset: Dataset, of queries: [EarliestQuery]) async throws -> [Date?] {
        var dates: [Date?] = []
        for query in queries { dates.append(try await earliest(dataset, column: query.column, where: query.predicate)) }
        return dates
    }
}

extension BatchWriter {
    package var resumesByPredicate: Bool { false }
    package var blocksWriters: Bool { false }
    package func finish(_ dataset: Dataset) async throws {}
}

/// Opens connections to stores; the engine does not know the kinds' libraries.
package protocol StoreConnector: Sendable {
    func connect(to store: Store) async throws -> any StoreConnection
}

/// A store could not be reached or did not behave as its stores file says.
package struct StoreError: Error, Sendable, CustomStringConvertible {
    package var store: String
    package var message: String

    package init(store: String, message: String) {
        self.store = store
        self.message = message
    }

    package var description: String { "store '\(store)': \(message)" }
}
