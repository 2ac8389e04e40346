/// What reason a rule gives for keeping or deleting a record; the kinds decide how several rules
/// bound to one dataset combine (GDPR Art. 17 and 18, DESIGN §6).
package enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Kept while, or for as long as, a purpose needs it. Among purpose rules the longest wins.
    case purpose
    /// A legal duty to keep: nothing deletes a record while it runs, not even an erasure.
    case obligation
    /// A duty to delete when an event happens: overrides purposes, yields to obligations and holds.
    case erasure

    /// How strongly the kind keeps a record: a locked rule's kind may only move up
    /// (erasure → purpose → obligation), never down.
    package var keepingStrength: Int {
        switch self {
        case .erasure: 0
        case .purpose: 1
        case .obligation: 2
        }
    }
}
