public import Foundation
public import RetentionRules

/// What a job does to each record of a batch.
public enum Change: Sendable, Hashable {
    case delete
    /// Replaces columns per strategy and sets `markColumn` (if any) to `at`.
    case anonymize(strategies: [String: AnonymizationStrategy], markColumn: String?, at: Date, hmacKey: HMACKey?)
    /// Sets `column` to `at`.
    case restrict(column: String, at: Date)
}

/// An open connection to one store: the only way the engine reaches data.
///
/// Queries run in the store (an indexed range query for SQL, a directory walk for files); nothing
/// loads a dataset into memory. `keys` returns keys in the store's own order, and `after` continues
/// from the last key of the previous batch.
public protocol StoreConnection: Sendable {
    /// How many records of `dataset` match `predicate`.
    func count(_ dataset: Dataset, where predicate: RecordPredicate) async throws -> Int
    /// How many records `dataset` holds in all (for the mass-deletion guard).
    func total(_ dataset: Dataset) async throws -> Int
    /// Up to `limit` keys matching `predicate`, in key order, after `after`.
    func keys(_ dataset: Dataset, where predicate: RecordPredicate, after: RecordKey?, limit: Int) async throws -> [RecordKey]
    /// Which of `keys` still match `predicate`.
    func matching(_ dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey]
    /// Applies `change` to those of `keys` that still match `predicate`, in one transaction;
    /// returns the keys changed.
    func apply(_ change: Change, to dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey]
    /// The mapped columns of one record, or nil if there is none with that key.
    func record(_ dataset: Dataset, key: RecordKey) async throws -> [String: StoreValue]?
    /// The earliest value of `column` among records matching `predicate` (for forecasts).
    func earliest(_ dataset: Dataset, column: String, where predicate: RecordPredicate) async throws -> Date?
    /// Stores that act on a whole job at once (external commands) carry it out here and return what
    /// they did; every other store returns nil and is driven batch by batch.
    func execute(_ job: Job, change: Change, dataset: Dataset, predicate: RecordPredicate) async throws -> [RecordKey]?
    /// Called after a job finished (files: remove emptied directories).
    func finish(_ dataset: Dataset) async throws
    /// Releases the connection.
    func close() async
}

extension StoreConnection {
    public func finish(_ dataset: Dataset) async throws {}
    public func execute(_ job: Job, change: Change, dataset: Dataset, predicate: RecordPredicate) async throws -> [RecordKey]? { nil }
}

/// Opens connections to stores; the engine does not know the kinds' libraries.
public protocol StoreConnector: Sendable {
    func connect(to store: Store) async throws -> any StoreConnection
}

/// A store could not be reached or did not behave as its stores file says.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var store: String
    public var message: String

    public init(store: String, message: String) {
        self.store = store
        self.message = message
    }

    public var description: String { "store '\(store)': \(message)" }
}
