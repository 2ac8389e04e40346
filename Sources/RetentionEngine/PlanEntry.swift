public import Foundation
public import RetentionRules

/// What one stage of one rule makes due on one dataset.
public struct PlanEntry: Sendable, Hashable, Encodable {
    public var store: String
    public var dataset: String
    public var rule: String
    /// 1-based, as rule authors count.
    public var stage: Int
    public var action: Action
    public var cutoff: Date
    /// Records due at the plan's instant (record holds excluded).
    public var due: Int
    /// Records due by the end of the horizon, if one was asked for.
    public var dueByHorizon: Int?
    /// When the next record not yet due falls due, if any.
    public var nextDue: Date?
    /// A hold on the dataset or store blocks the stage.
    public var heldBy: Int64?
    /// `retain: none`: every record found is a violation.
    public var isViolation: Bool
    /// The rule's kind.
    public var kind: Kind = .purpose
    /// An erasure's delete stage with a deadline: records it deletes now that are past the deadline
    /// (deferred erasures count from the end of their deferral).
    public var overdue: Int?
    /// The restriction of an erasure an obligation defers: every deferred record (`due` counts
    /// those not restricted yet), by which obligations, released when.
    public var deferred: DeferredErasure?
    /// Whether the entry is the restriction of an erasure an obligation defers.
    public var isDeferral = false

    enum CodingKeys: String, CodingKey {
        case store, dataset, rule, stage, action, cutoff, due, kind, overdue
        case dueByHorizon = "due_by_horizon", nextDue = "next_due", heldBy = "held_by", isViolation = "violation"
        case deferred = "deferred_by", isDeferral = "deferral"
    }

    public func encode(to encoder: any Encoder) throws {
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
public struct Plan: Sendable {
    public var at: Date
    public var horizon: Period?
    public var entries: [PlanEntry]
}
