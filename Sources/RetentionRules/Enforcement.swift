/// Who enforces a rule's period. Only `retentiond` rules are acted on by the daemon; the others are
/// part of the schedule so that it lists every period a policy promises.
package enum Enforcement: String, Sendable, Hashable, CaseIterable {
    /// The daemon deletes, anonymizes or restricts the records itself.
    case retentiond
    /// A cookie lifetime, enforced by the visitor's browser.
    case browser
    /// Retention on a processor's or vendor's side (an analytics service, a hosting provider).
    case vendor
    /// A manual procedure outside any store retentiond can reach.
    case manual

    /// Whether the daemon can enforce the period itself.
    package var isEnforceableHere: Bool { self == .retentiond }
}
