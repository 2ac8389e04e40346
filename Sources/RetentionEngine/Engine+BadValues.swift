import Foundation
import Logging
import RetentionRules
import Synchronization

extension Engine {
    /// Anchor values that are no time (before 0001 or from 10000 on: a REAL `Inf`, microseconds in
    /// a seconds column, a file dated year 318,000) make their record never due — the planner's
    /// predicates say so — and are reported here, once per process and record, naming store,
    /// dataset, key and column, so that the data can be fixed. They never stop anything else.
    func reportBadValues(of policy: DatasetPolicy, connection: any StoreConnection) async throws {
        var columns: [String] = []
        for rule in policy.rules { for column in policy.columns(rule.anchor) where !columns.contains(column) { columns.append(column) } }
        guard !columns.isEmpty else { return }
        let counts = try await connection.counts(policy.dataset, where: columns.map(RecordPredicate.unrepresentable))
        let store = policy.store.id, dataset = policy.dataset.id
        for (column, count) in zip(columns, counts) where count > 0 {
            // A store that executes whole jobs cannot name its records: the count says it all.
            let keys = try await (connection as? any RecordReader)?.keys(policy.dataset, where: .unrepresentable(column), from: .after(nil),
                                                                        limit: Self.badValuesNamed) ?? []
            for key in keys where Self.firstReport(of: "\(store)\u{0}\(dataset)\u{0}\(column)\u{0}\(key)") {
                logger.warning("record \(KeyText.escaped(key.description)) of \(store)/\(dataset): \(column) holds no time between the years 0001 and 9999; the record is never due until it is fixed",
                               metadata: ["event": "\(EngineEvent.badValue.rawValue)", "store": "\(store)", "dataset": "\(dataset)",
                                          "column": "\(column)", "key": "\(key)"])
            }
            if count > keys.count, Self.firstReport(of: "\(store)\u{0}\(dataset)\u{0}\(column)\u{0}\(count)") {
                logger.warning("\(count) records of \(store)/\(dataset) in all hold no time in \(column); the first \(keys.count) are named above",
                               metadata: ["event": "\(EngineEvent.badValue.rawValue)", "store": "\(store)", "dataset": "\(dataset)",
                                          "column": "\(column)", "count": "\(count)"])
            }
        }
    }

    /// How many records with a bad value are named one by one per column.
    static let badValuesNamed = 10

    private static let reported = Mutex<Set<String>>([])

    /// True the first time `report` is asked for in this process.
    static func firstReport(of report: String) -> Bool {
        reported.withLock { $0.insert(report).inserted }
    }
}
