import Foundation
import RetentionEngine
import RetentionRules

/// One record's explanation as `explain --format json` prints it.
struct ExplanationView: Encodable {
    /// One rule's claim on the record.
    struct Rule: Encodable {
        var rule: String
        var kind: String
        var applies: Bool
        var anchor: String?
        var stages: [[String: String]]
        var keeps: Bool
        var keepsUntil: String?
    }

    var store: String, dataset: String, key: String, at: String, record: [String: String], rules: [Rule]
    var holds: [String], outcome: String, outcomeRule: String?, deferredBy: [String]?, until: String?, late: Bool?
    var anonymizedBy: String?, restrictedBy: String?, deletionRule: String?, deletionAt: String?

    init(_ e: Explanation) {
        (store, dataset, key, at) = (e.store, e.dataset, e.key.description, InstantText.format(e.at))
        record = e.record.mapValues(\.description)
        rules = e.verdicts.map { v in
            Rule(rule: v.rule.id, kind: v.rule.kind.rawValue, applies: v.applies, anchor: v.anchor.map(InstantText.format),
                 stages: v.stages.map { ["after": $0.stage.after.description, "action": $0.stage.action.rawValue, "due": InstantText.format($0.due)] },
                 keeps: v.keeps, keepsUntil: v.keepsUntil.map(InstantText.format))
        }
        holds = e.holds.map { "#\($0.id) \($0.scope): \($0.reason)" }
        switch e.holds.isEmpty ? e.decision.outcome : .held(holdID: e.holds[0].id) {
        case .held: (outcome, outcomeRule) = ("held", nil)
        case .deleted(let rule, let isLate): (outcome, outcomeRule, late) = ("deleted", rule, isLate)
        case .deferred(let erasure, let by, let end): (outcome, outcomeRule, deferredBy, until) = ("deferred", erasure, by, end.map(InstantText.format))
        case .kept(let by, let end): (outcome, outcomeRule, until) = ("kept", by, end.map(InstantText.format))
        }
        (anonymizedBy, restrictedBy) = (e.decision.anonymizedBy, e.decision.restrictedBy)
        (deletionRule, deletionAt) = (e.deletion?.rule, e.deletion.map { InstantText.format($0.at) })
    }
}
