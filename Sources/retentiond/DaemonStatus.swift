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
        /// On a shared state: leader or follower, or the job running (`Engine.roleChanged`).
        var role: String?
        /// The engine part of the line, as last described, for a line sent between passes' ends.
        var engine = ""
    }

    private let summary = Mutex(Summary())
    private let dryRun: Bool

    init(dryRun: Bool) { self.dryRun = dryRun }

    /// How the last pass went (or why none ran).
    func passEnded(_ text: String) { summary.withLock { $0.lastPass = text } }

    /// The pass service sleeps until `date`.
    func sleeping(until date: Date) { summary.withLock { $0.nextPass = date } }

    /// What this daemon is to the others sharing its state; returns the line to send now.
    func role(_ text: String) -> String {
        summary.withLock { $0.role = text }
        return line(describing: nil)
    }

    /// The status line under `engine`.
    func line(for engine: Engine) -> String {
        line(describing: Self.describe(engine))
    }

    private func line(describing engine: String?) -> String {
        let summary = self.summary.withLock { summary in
            if let engine { summary.engine = engine }
            return summary
        }
        let next = summary.nextPass.map { "; next pass \(Self.clock($0))" } ?? ""
        let role = summary.role.map { "; \($0)" } ?? ""
        return "\(summary.engine)\(role); \(summary.lastPass)\(next)\(dryRun ? " (dry run)" : "")"
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
