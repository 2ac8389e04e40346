import AsyncAlgorithms
import Foundation

/// The pass service's alarm: sleeps on the pass timer until the deadline set last and rings
/// `.due(deadline)` when it comes. A new deadline replaces the one before and cancels its sleep,
/// so a reload that moves the next pass earlier is heard; no deadline set is ever lost, even one
/// that arrives as the old one rings. `run()` is a child task of the pass service, so no sleep
/// outlives it.
struct PassAlarm: Sendable {
    let timer: any PassTimer
    /// Deadlines, handed over one by one to `run()`.
    private let deadlines = AsyncChannel<Date>()
    /// What it rang, and `.stopping`: in order, none dropped.
    let rings: AsyncStream<PassWake>
    private let ring: AsyncStream<PassWake>.Continuation

    init(timer: any PassTimer) {
        self.timer = timer
        (rings, ring) = AsyncStream.makeStream(of: PassWake.self)
    }

    /// Rings at `deadline`, instead of any deadline set before.
    func set(_ deadline: Date) async { await deadlines.send(deadline) }

    /// Wakes the pass service at once, for good: graceful shutdown began.
    func stop() { ring.yield(.stopping) }

    /// Sleeps until each deadline set, until cancelled.
    func run() async {
        var next = await deadlines.first { _ in true }
        while let deadline = next, !Task.isCancelled {
            next = await sleep(until: deadline)
        }
        ring.finish()
    }

    private enum Outcome: Sendable {
        case rang
        case replaced(Date)
        case interrupted
    }

    /// Sleeps until `deadline` and rings, unless a new deadline comes first; returns the deadline
    /// to sleep until next (waiting for one after a ring), or nil once cancelled.
    private func sleep(until deadline: Date) async -> Date? {
        let outcomes = await withTaskGroup(of: Outcome.self) { group in
            group.addTask { [timer] in
                do { try await timer.sleep(until: deadline) } catch { return .interrupted }
                return .rang
            }
            group.addTask { [deadlines] in
                await deadlines.first { _ in true }.map { .replaced($0) } ?? .interrupted
            }
            var outcomes = [await group.next() ?? .interrupted]
            group.cancelAll()
            // Both count: a deadline handed over just as the old one rang must not be lost.
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        for case .replaced(let replacement) in outcomes { return replacement }
        guard outcomes.contains(where: { if case .rang = $0 { true } else { false } }) else { return nil }
        ring.yield(.due(deadline))
        return await deadlines.first { _ in true }
    }
}
