import AsyncAlgorithms
import Foundation

/// Why the pass service woke from its sleep between passes.
enum PassWake: Sendable, Hashable {
    /// The time the pass service asked to be woken at has come.
    case due(Date)
    /// A reload ran (good or rejected): the next pass is planned under the rules now in force.
    case rulesChanged
    /// Graceful shutdown began: no pass follows.
    case stopping

    /// Everything that wakes a sleeping pass service, in the order it comes: a reload, its alarm,
    /// a stop.
    static func merged(rulesChanged: AsyncStream<Void>, alarm: PassAlarm) -> some AsyncSequence<PassWake, Never> & Sendable {
        merge(rulesChanged.map { PassWake.rulesChanged }, alarm.rings)
    }
}
