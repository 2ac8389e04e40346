/// Where a batch's keys start.
package enum BatchStart: Sendable, Hashable {
    /// The first matching keys in whatever order the store finds them fastest (delete jobs on
    /// stores that `resumesByPredicate`).
    case anywhere
    /// In key order, after this key; nil: from the first.
    case after(RecordKey?)
}
