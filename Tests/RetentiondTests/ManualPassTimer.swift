import Foundation
import Synchronization
@testable import retentiond

/// A pass timer that lets its sleepers go only when the test says so (`fire()`), whatever the
/// deadline: the pass service must wake on it, and not before. Records every deadline asked for.
final class ManualPassTimer: PassTimer {
    private struct State {
        var nextID = 0
        var sleepers: [Int: CheckedContinuation<Void, any Error>] = [:]
        var cancelled: Set<Int> = []
        var deadlines: [Date] = []
    }

    private let state = Mutex(State())

    /// Every deadline asked for, in order.
    var deadlines: [Date] { state.withLock { $0.deadlines } }

    /// How many sleep now.
    var sleeping: Int { state.withLock { $0.sleepers.count } }

    func sleep(until deadline: Date) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            state.deadlines.append(deadline)
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let cancelled = state.withLock { state in
                    if state.cancelled.contains(id) { return true }
                    state.sleepers[id] = continuation
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let sleeper = state.withLock { state in
                state.cancelled.insert(id)
                return state.sleepers.removeValue(forKey: id)
            }
            sleeper?.resume(throwing: CancellationError())
        }
    }

    /// Ends every sleep going on now, as if its deadline had come.
    func fire() {
        let sleepers = state.withLock { state in
            defer { state.sleepers = [:] }
            return Array(state.sleepers.values)
        }
        for sleeper in sleepers { sleeper.resume() }
    }
}
