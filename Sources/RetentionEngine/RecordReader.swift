package import Foundation
package import RetentionRules

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
extension RecordReader {
    package func earliest(_ dataset: Dataset, of queries: [EarliestQuery]) async throws -> [Date?] {
        var dates: [Date?] = []
        for query in queries { dates.append(try await earliest(dataset, column: query.column, where: query.predicate)) }
        return dates
    }
}
