import CommandLineOptions
import RetentionEngine

extension Job.State {
    /// Reads `jobs --in`: the name of a job state.
    init(option text: String) throws(OptionValueError) {
        guard let state = Job.State(rawValue: text) else {
            throw OptionValueError(expected: Job.State.allCases.map(\.rawValue).joined(separator: ", "), found: text,
                                   problem: "unknown job state '\(text)'")
        }
        self = state
    }
}
