import RetentionEngine
import Synchronization

/// The state databases a command opened, closed when it ends, whichever way: a PostgreSQL state
/// database's connection is ended properly (a `Terminate` the server logs as a normal end, not a
/// connection lost) rather than dropped by the exit.
final class OpenedStates: Sendable {
    static let shared = OpenedStates()

    private let states = Mutex<[any StateBackend]>([])

    func add(_ state: any StateBackend) {
        states.withLock { $0.append(state) }
    }

    func closeAll() async {
        let opened = states.withLock { states in
            defer { states = [] }
            return states
        }
        for state in opened { await state.close() }
    }
}
