/// One question for `earliest`: the earliest `column` among records matching `predicate`.
public struct EarliestQuery: Sendable, Hashable {
    public var column: String
    public var predicate: RecordPredicate

    public init(column: String, predicate: RecordPredicate) {
        self.column = column
        self.predicate = predicate
    }
}
