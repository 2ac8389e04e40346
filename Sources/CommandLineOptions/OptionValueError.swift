/// A command-line value its option does not take.
///
/// The argument parser prints it after the option and the value it was given ("The value '5m' is
/// invalid for '--interval <interval>': …"), so that the whole message says where (the option),
/// what was found and what was expected.
package struct OptionValueError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What the option takes.
    var expected: String
    /// The value given.
    var found: String
    /// What is wrong with it, when there is more to say than that it is not the expected form.
    var problem: String?

    /// Creates an error.
    package init(expected: String, found: String, problem: String? = nil) {
        self.expected = expected
        self.found = found
        self.problem = problem
    }

    package var description: String {
        if let problem { return "\(problem); expected \(expected)" }
        return "expected \(expected); found '\(found)'"
    }
}
