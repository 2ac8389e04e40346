/// Why a pass could not run.
package enum EngineError: Error, Sendable, CustomStringConvertible {
    case state(StateError)
    case lockedRules([String])
    /// A job changed under the pass (another process decided on it) or the engine broke the job
    /// lifecycle: the pass stops rather than guess.
    case transition(JobTransitionError)
    /// Daemons sharing the state database run different rules: they would plan against each
    /// other, so this one neither plans nor runs until its rules match the leader's.
    case rulesDiffer(mine: String, leader: String, holder: String, term: Int64)

    package var description: String {
        switch self {
        case .state(let error): error.description
        case .lockedRules(let problems):
            "refusing the rules: they weaken locked rules the state database remembers:\n  " + problems.joined(separator: "\n  ")
        case .transition(let error): error.description
        case let .rulesDiffer(mine, leader, holder, term):
            "refusing to plan or run: this daemon's rules (digest \(mine)) differ from those of the leader \(holder) (term \(term), "
                + "digest \(leader)); daemons sharing one state database must run the same rules and stores files, or they would "
                + "plan against each other. Deploy the same files everywhere (or stop the leader), then reload"
        }
    }
}
