/// A syntax error of a text the rules language parses out of one YAML scalar (a duration, a
/// condition), at an offset in that text, so that the diagnostic can point at the column.
protocol ScalarSyntaxError: Error {
    /// What was expected and what was found.
    var message: String { get }
    /// Where in the scalar's text the problem starts, 0-based, in Unicode scalars.
    var offset: Int { get }
}

extension PeriodSyntaxError: ScalarSyntaxError {}
extension ConditionSyntaxError: ScalarSyntaxError {}
