/// Whether a rule's jobs need a person's approval before they act.
package enum Review: String, Sendable, Hashable, CaseIterable {
    /// Every job of the rule waits for `retentionctl approve`.
    case required
    /// Jobs run unless a safety guard stops them (the default).
    case none
}
