/// Why a pass could not run.
package enum EngineError: Error, Sendable, CustomStringConvertible {
    case state(StateError)
    case lockedRules([String])
    /// A job changed under the pass (another process decided on it) or the engine broke the job
    /// lifecycle: the pass stops rather than guess.
    case transition(JobTransitionError)

    package var description: String {
        switch self {
        case .state(let error): error.description
        case .lockedRules(let problems):
            "refusing the rules: they weaken locked rules the state database remembers:\n  " + problems.joined(separator: "\n  ")
        case .transition(let error): error.description
        }
    }
}
