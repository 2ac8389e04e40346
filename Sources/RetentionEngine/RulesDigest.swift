import Crypto
import Foundation
import RetentionRules

/// A short fingerprint of what decides planning: each rule's periods, anchor, condition, zone,
/// kind, review and deadline, and the datasets it is bound to (`LockedRule`'s form). Daemons
/// sharing one state database compare it with the leader's: two rule sets would plan against
/// each other (one deleting what the other keeps), so a daemon whose rules differ from the live
/// leader's refuses to plan or run.
///
/// Canonical JSON (sorted keys, rules by id), so that the same rules give the same digest in any
/// process; titles, notes and sources, which decide nothing, are left out.
enum RulesDigest {
    private struct Entry: Encodable {
        var rule: String
        var anchor: [String]
        var stages: [Stage]
        var retention: String
        var kind: String
        var review: String
        var deadline: String?
        var form: LockedRule.Form?
    }

    static func of(_ rules: RuleSet, stores: StoreSet) -> String {
        let now = Date(timeIntervalSince1970: 0)
        let entries = rules.rules.sorted { $0.id < $1.id }.map { rule in
            let locked = LockedRule(rule, in: stores, at: now, known: nil)
            var form = locked.form
            if let bindings = form?.bindings {
                form?.bindings = bindings.map { binding in
                    var binding = binding
                    binding.target = serverless(binding.target)
                    return binding
                }
            }
            return Entry(rule: rule.id, anchor: locked.anchor, stages: locked.stages, retention: locked.retention, kind: rule.kind.rawValue,
                         review: rule.review.rawValue, deadline: rule.deadline?.description, form: form)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(entries)) ?? Data()
        return SHA256.hash(data: data).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// A binding's place without the PostgreSQL server's host and port (`postgres:HOST/PORT/DB|table`
    /// → `postgres:DB|table`): daemons on several hosts reach one server by names of their own (a
    /// DNS alias, an address, a pooler, a network namespace's route), and that plans nothing.
    /// The database and table stay: two daemons on other databases must not share a state.
    static func serverless(_ target: String) -> String {
        let prefix = "\(Store.Kind.postgres.rawValue):"
        guard target.hasPrefix(prefix) else { return target }
        let parts = target.dropFirst(prefix.count).split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 ? prefix + parts[2] : target
    }
}
