package import Foundation
package import RetentionRules

/// The model of DESIGN §6 worked out for one record at one instant, rule by rule, in plain Swift
/// rather than as predicates: what `explain` shows, and what the planner's store queries are held
/// to by the property tests and by `retentionctl test`.
package struct RecordDecision: Sendable {
    /// One rule bound to the record's dataset, as it stands for the record.
    package struct RuleState: Sendable {
        package var rule: Rule
        /// Whether the rule's `when:` holds (always true without one).
        package var applies: Bool
        /// The anchor: the earliest present, readable anchor value.
        package var anchor: Date?
        /// Anchor columns present but not readable as instants.
        package var unreadable: [String]
        /// The due instant of each stage (empty when the anchor is null).
        package var stages: [StageDue]
        /// Whether the rule claims to keep the record (purpose or obligation, applying).
        package var keeps: Bool
        /// When that claim ends; nil: never (`forever`, or a null anchor).
        package var keepsUntil: Date?

        /// Whether the rule still keeps the record at `now`.
        func isKeeping(at now: Date) -> Bool { keeps && (keepsUntil.map { $0 > now } ?? true) }
    }

    /// What happens to the record's existence at the instant.
    package enum Outcome: Sendable, Equatable {
        /// A hold covers it: nothing acts.
        case held(holdID: Int64)
        /// A delete stage deletes it; `late` when that is a violation: after the rule's deadline, or
        /// a record `retain: none` says must not exist.
        case deleted(rule: String, late: Bool)
        /// An erasure is due, but obligations still run: kept (and restricted) until `until`
        /// (nil while an obligation's anchor is null).
        case deferred(erasure: String, by: [String], until: Date?)
        /// Nothing deletes it: `by` keeps it longest (nil when no rule keeps it and none deletes it).
        case kept(by: String?, until: Date?)
    }

    package var at: Date
    package var rules: [RuleState]
    package var outcome: Outcome
    /// The rule whose anonymize stage anonymizes the record now, if one does.
    package var anonymizedBy: String?
    /// The rule that restricts the record now: a restrict stage, or a deferred erasure.
    package var restrictedBy: String?
}

extension RecordDecision {
    /// Works out the decision for `record` (the dataset's columns, meant as `codec` says) at `now`.
    package init(policy: DatasetPolicy, record: [String: StoreValue], key: RecordKey? = nil, holds: [Hold] = [], at now: Date,
                codec: some StoreCodec) {
        let states = policy.rules.map { Self.state(of: $0, policy: policy, record: record, key: key, codec: codec) }
        self.at = now
        self.rules = states
        self.outcome = Self.outcome(states, policy: policy, holds: holds, at: now)
        if case .held = outcome { return }
        let due = { (state: RuleState, index: Int) in state.applies && (state.stages[safe: index].map { $0.due <= now } ?? false) }
        let notAnonymized = policy.notYetAnonymized.evaluate(record, key: key, codec: codec) == true
        let notRestricted = policy.notYetRestricted.evaluate(record, key: key, codec: codec) == true
        let deferred = if case .deferred = outcome { true } else { false }
        for state in states where state.rule.enforcedBy.isEnforceableHere {
            if state.rule.retention == .never, state.applies, deferred, notRestricted, restrictedBy == nil { restrictedBy = state.rule.id }
            for (index, stage) in state.rule.retention.stages.enumerated() where due(state, index) {
                switch stage.action {
                case .anonymize where notAnonymized && anonymizedBy == nil: anonymizedBy = state.rule.id
                case .restrict where notRestricted && restrictedBy == nil: restrictedBy = state.rule.id
                case .delete where state.rule.kind == .erasure && deferred && notRestricted && restrictedBy == nil:
                    restrictedBy = state.rule.id
                default: break
                }
            }
        }
    }

    static func state(of rule: Rule, policy: DatasetPolicy, record: [String: StoreValue], key: RecordKey?, codec: some StoreCodec) -> RuleState {
        let applies = policy.applies(rule).evaluate(record, key: key, codec: codec) == true
        var unreadable: [String] = []
        let anchor = policy.columns(rule.anchor).compactMap { column -> Date? in
            let value = record[column] ?? .null
            if value.isNull { return nil }
            guard let date = codec.instant(value) else { unreadable.append(column); return nil }
            return date
        }.min()
        let stages = anchor.map { rule.dueDates(anchor: $0) } ?? []
        let keepingStage = DatasetPolicy.keepingStage(of: rule)
        let keepsUntil = keepingStage.flatMap { keeping in
            anchor.map { rule.calendar.due(after: keeping.after, from: $0, alignment: rule.alignment) }
        }
        return RuleState(rule: rule, applies: applies, anchor: anchor, unreadable: unreadable, stages: stages,
                         keeps: applies && DatasetPolicy.keeps(rule), keepsUntil: keepsUntil)
    }

    static func outcome(_ states: [RuleState], policy: DatasetPolicy, holds: [Hold], at now: Date) -> Outcome {
        if let hold = holds.first { return .held(holdID: hold.id) }
        let running = states.filter { $0.rule.kind == .obligation && $0.isKeeping(at: now) }
        // An erasure beats every purpose and waits for every obligation.
        if let erasure = states.first(where: { isErasureDue($0, at: now) }) {
            guard running.isEmpty else {
                let until = running.contains { $0.keepsUntil == nil } ? nil : running.compactMap(\.keepsUntil).max()
                return .deferred(erasure: erasure.rule.id, by: running.map(\.rule.id), until: until)
            }
            return .deleted(rule: erasure.rule.id, late: erasure.rule.retention == .never || isLate(erasure, states, at: now))
        }
        // A purpose's or obligation's deletion waits for every other rule that keeps the record.
        for (index, state) in states.enumerated() where state.rule.enforcedBy.isEnforceableHere && state.rule.kind != .erasure
            && state.rule.retention != .never && state.applies {
            guard let delete = state.rule.retention.stages.lastIndex(where: { $0.action == .delete }),
                  let due = state.stages[safe: delete]?.due, due <= now else { continue }
            if !states.enumerated().contains(where: { $0.offset != index && $0.element.isKeeping(at: now) }) {
                return .deleted(rule: state.rule.id, late: isLate(state, states, at: now))
            }
        }
        let keeper = states.filter { $0.isKeeping(at: now) }.reduce(nil as RuleState?) { longest, state in
            guard let longest else { return state }
            guard let end = longest.keepsUntil else { return longest }
            return state.keepsUntil.map { $0 > end } ?? true ? state : longest
        }
        return .kept(by: keeper?.rule.id, until: keeper?.keepsUntil)
    }

    /// An erasure rule that the daemon enforces, applying, with its delete stage due (at once for
    /// `retain: none`).
    static func isErasureDue(_ state: RuleState, at now: Date) -> Bool {
        guard state.rule.kind == .erasure || state.rule.retention == .never, state.rule.enforcedBy.isEnforceableHere, state.applies else { return false }
        if state.rule.retention == .never { return true }
        guard let delete = state.rule.retention.stages.firstIndex(where: { $0.action == .delete }) else { return false }
        return state.stages[safe: delete].map { $0.due <= now } ?? false
    }

    /// Deleted later than the rule's deadline, counted from the anchor and — after a deferral —
    /// from the instant the last obligation let go.
    static func isLate(_ state: RuleState, _ states: [RuleState], at now: Date) -> Bool {
        guard let deadline = state.rule.deadline, let anchor = state.anchor,
              let byAnchor = state.rule.deadline(anchor: anchor), byAnchor < now else { return false }
        return states.filter { $0.rule.kind == .obligation && $0.keeps }.allSatisfy { obligation in
            obligation.keepsUntil.map { state.rule.calendar.due(after: deadline, from: $0) < now } ?? false
        }
    }

    /// The first instant after `now` at which the record is deleted, and under which rule, if the
    /// record stays as it is: the decision only changes where some rule's stage falls due.
    static func nextDeletion(policy: DatasetPolicy, record: [String: StoreValue], key: RecordKey?,
                                    after now: Date, codec: some StoreCodec) -> (rule: String, at: Date)? {
        let base = RecordDecision(policy: policy, record: record, key: key, at: now, codec: codec)
        let instants = Set(base.rules.flatMap { $0.stages.map(\.due) + [$0.keepsUntil].compactMap { $0 } }).filter { $0 > now }.sorted()
        for instant in instants {
            if case .deleted(let rule, _) = RecordDecision(policy: policy, record: record, key: key, at: instant, codec: codec).outcome {
                return (rule, instant)
            }
        }
        return nil
    }
}
