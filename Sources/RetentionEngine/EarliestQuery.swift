/// One question for `earliest`: the earliest `column` among records matching `predicate`.
package struct EarliestQuery: Sendable, Hashable {
    package var column: String
    package var predicate: RecordPredicate

    package init(column: String, predicate: RecordPredicate) {
        self.column = column
        self.predicate = predicate
    }
}
