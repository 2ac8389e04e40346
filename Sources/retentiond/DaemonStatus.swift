import Foundation
import RetentionEngine
import RetentionRules
import Synchronization

/// The daemon's one-line `STATUS=` for `systemctl status`: the engine in force, how the last pass
/// went, and when the next one is due.
final class DaemonStatus: Sendable {
    private struct Summary {
        var lastPass = "no pass yet"
        /// When the pass service will wake, once it sleeps.
        var nextPass: Date?
    }

    private let summary = Mutex(Summary())
    private let dryRun: Bool

    init(dryRun: Bool) { self.dryRun = dryRun }

    /// How the last pass went (or why none ran).
    func passEnded(_ text: String) { summary.withLock { $0.lastPass = text } }

    /// The pass service sleeps until `date`.
    func sleeping(until date: Date) { summary.withLock { $0.nextPass = date } }

    /// The status line under `engine`.
    func line(for engine: Engine) -> String {
        let summary = self.summary.withLock { $0 }
        let next = summary.nextPass.map { "; next pass \(Self.clock($0))" } ?? ""
        return "\(Self.describe(engine)); \(summary.lastPass)\(next)\(dryRun ? " (dry run)" : "")"
    }

    static func describe(_ engine: Engine) -> String {
        let rules = engine.rules.rules.count, stores = engine.stores.stores.count
        let datasets = engine.stores.stores.reduce(0) { $0 + $1.datasets.count }
        return "\(rules) rules, \(stores) stores, \(datasets) datasets"
    }

    /// Local time to the second, as an operator reads `systemctl status`.
    static func clock(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .current).year().month().day().dateSeparator(.dash)
            .time(includingFractionalSeconds: false).timeSeparator(.colon).dateTimeSeparator(.space))
    }
}
