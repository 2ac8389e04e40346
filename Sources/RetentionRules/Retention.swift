/// How long a rule keeps its data.
public enum Retention: Sendable, Hashable {
    /// One or more stages with finite periods, strictly increasing.
    case stages([Stage])
    /// Kept indefinitely; the rule must name a basis.
    case forever
    /// `retain: none`: must never be stored; every record found is a violation and is deleted.
    case never

    /// The stages, or an empty list for `forever` and `none`.
    public var stages: [Stage] {
        if case .stages(let stages) = self { return stages }
        return []
    }

    /// The period of the last stage: how long the data is kept in any form.
    var longest: Period? { stages.last?.after }
}
