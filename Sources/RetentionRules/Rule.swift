public import Foundation

/// A retention period: how long, counted from which event, then which action.
public struct Rule: Sendable, Hashable, Identifiable {
    /// The rule's id, unique across a rule set (`kmbe-contracts`).
    public var id: String
    /// A title for the schedule.
    package var title: String?
    /// What reason the rule gives: purpose, obligation or erasure.
    package var kind: Kind
    /// Whether the author wrote `kind:` (lint says which kind it assumed where that matters).
    package var kindIsExplicit: Bool
    /// The stages, or `forever` / `none`.
    public var retention: Retention
    /// Whether the author wrote `stages:` rather than `retain:`/`then:`.
    package var isMultiStage: Bool
    /// The event the periods count from; nil only for `forever` and `none`.
    package var anchor: Anchor?
    /// Where the period starts relative to the anchor.
    package var alignment: Alignment?
    /// Which records the rule applies to; nil for all.
    public var condition: Condition?
    /// The delete-by period from the (aligned) anchor; later is a compliance violation.
    public var deadline: Period?
    /// Whether a later rules file may only lengthen the rule.
    package var lock: Bool
    /// Whether the rule's jobs need approval.
    package var review: Review
    /// The IANA zone of the rule's calendar arithmetic.
    package var timeZone: String
    /// The calendar for `timeZone`.
    package var calendar: RetentionCalendar
    /// The legal basis or purpose.
    package var basis: String?
    /// Where the period is documented.
    package var source: String?
    /// How the source was interpreted.
    package var note: String?
    /// Whether the source is ambiguous and the rule encodes a stated interpretation.
    package var ambiguous: Bool
    /// Who enforces the period.
    package var enforcedBy: Enforcement
    /// Where the rule's id is written.
    package var location: SourceLocation
    /// Where the `when:` text starts, for locating fields of the condition.
    var conditionLocation: SourceLocation?

    /// Creates a rule. `RulesParser` builds rules from files; this is for code and tests.
    package init(id: String, title: String? = nil, kind: Kind? = nil, retention: Retention, isMultiStage: Bool = false,
                anchor: Anchor?, alignment: Alignment? = nil, condition: Condition? = nil,
                deadline: Period? = nil, lock: Bool = false, review: Review = .none,
                calendar: RetentionCalendar, basis: String? = nil, source: String? = nil,
                note: String? = nil, ambiguous: Bool = false, enforcedBy: Enforcement = .retentiond,
                location: SourceLocation, conditionLocation: SourceLocation? = nil) {
        self.id = id
        self.title = title
        self.kind = kind ?? (retention == .never ? .erasure : .purpose)
        self.kindIsExplicit = kind != nil
        self.retention = retention
        self.isMultiStage = isMultiStage
        self.anchor = anchor
        self.alignment = alignment
        self.condition = condition
        self.deadline = deadline
        self.lock = lock
        self.review = review
        self.timeZone = calendar.timeZone.identifier
        self.calendar = calendar
        self.basis = basis
        self.source = source
        self.note = note
        self.ambiguous = ambiguous
        self.enforcedBy = enforcedBy
        self.location = location
        self.conditionLocation = conditionLocation
    }
}

/// When one stage of a rule falls due for a given anchor.
public struct StageDue: Sendable, Hashable {
    /// The stage.
    public var stage: Stage
    /// The first instant at which the stage's action is due.
    public var due: Date
}

extension Rule {
    /// The instant each stage falls due for an anchor instant. Empty for `forever` and `none`.
    public func dueDates(anchor: Date) -> [StageDue] {
        retention.stages.map { stage in
            StageDue(stage: stage, due: calendar.due(after: stage.after, from: anchor, alignment: alignment))
        }
    }

    /// The instant by which the last stage must be done, if the rule has a deadline.
    package func deadline(anchor: Date) -> Date? {
        deadline.map { calendar.due(after: $0, from: anchor, alignment: alignment) }
    }
}
