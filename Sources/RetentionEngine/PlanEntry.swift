package import Foundation
package import RetentionRules

/// What one stage of one rule makes due on one dataset.
package struct PlanEntry: Sendable, Hashable, Encodable {
    package var store: String
    package var dataset: String
    package var rule: String
    /// 1-based, as rule authors count.
    package var stage: Int
    package var action: Action
    package var cutoff: Date
    /// Records due at the plan's instant (record holds excluded).
    package var due: Int
    /// Records due by the end of the horizon, if one was asked for.
    package var dueByHorizon: Int?
    /// When the next record not yet due falls due, if any.
    package var nextDue: Date?
    /// A hold on the dataset or store blocks the stage.
    package var heldBy: Int64?
    /// `retain: none`: every record found is a violation.
    package var isViolation: Bool
    /// The rule's kind.
    package var kind: Kind = .purpose
    /// An erasure's delete stage with a deadline: records it deletes now that are past the deadline
    /// (deferred erasures count from the end of their deferral).
    package var overdue: Int?
    /// The restriction of an erasure an obligation defers: every deferred record (`due` counts
    /// those not restricted yet), by which obligations, released when.
    package var deferred: DeferredErasure?
    /// Whether the entry is the restriction of an erasure an obligation defers.
    package var isDeferral = false

    enum CodingKeys: String, CodingKey {
        case store, dataset, rule, stage, action, cutoff, due, kind, overdue
        case dueByHorizon = "due_by_horizon", nextDue = "next_due", heldBy = "held_by", isViolation = "violation"
        case deferred = "deferred_by", isDeferral = "deferral"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(store, forKey: .store)
        try container.encode(dataset, forKey: .dataset)
        try container.encode(rule, forKey: .rule)
        try container.encode(stage, forKey: .stage)
        try container.encode(action, forKey: .action)
        try container.encode(InstantText.format(cutoff), forKey: .cutoff)
        try container.encode(due, forKey: .due)
        try container.encode(dueByHorizon, forKey: .dueByHorizon)
        try container.encode(nextDue.map(InstantText.format), forKey: .nextDue)
        try container.encode(heldBy, forKey: .heldBy)
        try container.encode(isViolation, forKey: .isViolation)
        try container.encode(kind, forKey: .kind)
        try container.encodeIfPresent(overdue, forKey: .overdue)
        try container.encode(isDeferral, forKey: .isDeferral)
        try container.encodeIfPresent(deferred, forKey: .deferred)
    }
}

/// The plan at an instant: every stage of every bound rule, with counts.
package struct Plan: Sendable {
    package var at: Date
    var horizon: Period?
    package var entries: [PlanEntry]
}
