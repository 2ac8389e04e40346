package import Foundation
package import RetentionRules

/// One stage of one rule on one dataset, with the records it makes due at an instant.
package struct PlannedStage: Sendable, Hashable {
    package var rule: Rule
    /// The stage's index in the rule.
    var stageIndex: Int
    package var action: Action
    /// A record is due when its anchor is earlier than this (for `retain: none`, the instant itself).
    package var cutoff: Date
    /// Every record this stage acts on now, conflicts with the other rules resolved; holds on
    /// single records are added when the job runs.
    package var predicate: RecordPredicate
    /// Whether the records are violations (`retain: none`).
    package var isViolation: Bool
    /// Set on the restriction of records whose erasure under `rule` an obligation defers: every
    /// deferred record (restricted already or not), and the obligations that can defer it.
    var deferral: Deferral?
    /// For a delete stage of a rule with a `deadline:`: the records it deletes later than that.
    package var overdue: RecordPredicate?

    /// Erasures an obligation holds back (Art. 17(3)(b), (e)); the records are restricted meanwhile
    /// (Art. 18(1)).
    package struct Deferral: Sendable, Hashable {
        /// Every record whose erasure is deferred now.
        package var deferred: RecordPredicate
        /// The obligations bound to the dataset, each with the records it blocks now.
        package var obligations: [(rule: Rule, blocks: RecordPredicate)]

        package static func == (lhs: Deferral, rhs: Deferral) -> Bool {
            lhs.deferred == rhs.deferred && lhs.obligations.map(\.rule) == rhs.obligations.map(\.rule)
                && lhs.obligations.map(\.blocks) == rhs.obligations.map(\.blocks)
        }

        package func hash(into hasher: inout Hasher) {
            hasher.combine(deferred)
            for obligation in obligations { hasher.combine(obligation.rule.id) }
        }
    }

    /// The stage of the rule's retention this is; nil for `retain: none`.
    var period: Stage? {
        rule.retention.stages.indices.contains(stageIndex) ? rule.retention.stages[stageIndex] : nil
    }

    /// The identity of a stage among a dataset's jobs: a deferral's restriction and the erasure it
    /// defers share rule and stage, not action.
    func isSame(rule: String, stage: Int, action: Action) -> Bool {
        self.rule.id == rule && stageIndex == stage && self.action == action
    }
}

/// The rules of one dataset, resolved against each other by their kinds (DESIGN §6,
/// docs/engine.md "How rules combine"):
///
/// - a purpose rule keeps a record until its last delete stage is due (`forever`: always; a null
///   anchor: its period has not started); among purposes the longest wins;
/// - an obligation keeps a record until its last stage is due, and nothing deletes the record
///   meanwhile — an erasure that falls due is deferred and the record restricted;
/// - an erasure deletes when its stage is due, whatever the purposes say; it keeps nothing;
/// - anonymize and restrict stages act on their own, once per record;
/// - a hold beats every rule (added by the engine when the job runs).
///
/// Everything is a `RecordPredicate` the store evaluates in its own query: no record is read here.
package struct DatasetPolicy: Sendable {
    package var store: Store
    package var dataset: Dataset
    /// The dataset's rules that retentiond enforces or that still retain (unknown ids left out).
    package var rules: [Rule]

    /// Resolves the dataset's rule ids against a rule set.
    package init(store: Store, dataset: Dataset, rules: RuleSet) {
        self.store = store
        self.dataset = dataset
        self.rules = dataset.rules.compactMap { rules[$0] }
    }

    /// The dataset's key column (files: the path).
    var keyColumn: String { dataset.key ?? "path" }

    /// The records holds on single records keep out of every job, as a predicate.
    func excluding(_ holds: [Hold]) -> RecordPredicate {
        let keys: [RecordKey] = holds.compactMap {
            if case .record(let store, let dataset, let key) = $0.scope, store == self.store.id, dataset == self.dataset.id { return key }
            return nil
        }
        return keys.isEmpty ? .always : .keyNotIn(column: keyColumn, keys: keys)
    }

    func columns(_ anchor: Anchor?) -> [String] {
        (anchor?.fields ?? []).compactMap { dataset.fields[$0] }
    }

    /// The rule applies to the record: its condition holds.
    func applies(_ rule: Rule) -> RecordPredicate {
        rule.condition.map { .condition($0, columns: dataset.fields) } ?? .always
    }

    /// The stage whose due instant ends the rule's claim on a record: a purpose rule's last delete
    /// stage, an obligation's last stage; nil when the rule keeps nothing (an erasure, a purpose
    /// that only anonymizes or restricts) or keeps for ever.
    static func keepingStage(of rule: Rule) -> Stage? {
        switch rule.kind {
        case .erasure: nil
        case .purpose: rule.retention.stages.last { $0.action == .delete }
        case .obligation: rule.retention.stages.last
        }
    }

    /// Whether the rule makes any claim on keeping records.
    static func keeps(_ rule: Rule) -> Bool {
        rule.kind != .erasure && (rule.retention == .forever || keepingStage(of: rule) != nil)
    }

    /// The rule no longer keeps the record at `now`: it does not apply, or its keeping stage is due.
    /// Three-valued like SQL: a null anchor makes it unknown, which a `WHERE` treats as false —
    /// the period has not started, so the record is kept. Used only in positive positions.
    func released(_ rule: Rule, at now: Date) -> RecordPredicate {
        guard Self.keeps(rule) else { return .always }
        guard let stage = Self.keepingStage(of: rule) else { return applies(rule).negated }
        return applies(rule).negated || .before(columns: columns(rule.anchor), cutoff: rule.cutoff(for: stage, at: now))
    }

    /// The obligation runs for the record at `now`: it applies, and its anchor is null, not yet
    /// due, or not a representable time. Two-valued (each anchor column null, not earlier than the
    /// cutoff, or earlier than year 1), so that it can be negated and used positively alike.
    func runs(_ obligation: Rule, at now: Date) -> RecordPredicate {
        guard let stage = Self.keepingStage(of: obligation) else { return .never }
        let cutoff = obligation.cutoff(for: stage, at: now)
        // A bad value (before year 1; one after 9999 is not before the cutoff anyway) keeps like null.
        let notYet = columns(obligation.anchor).map {
            RecordPredicate.isNull($0) || .notBefore(column: $0, cutoff: cutoff) || .not(.notBefore(column: $0, cutoff: RepresentableInstants.earliest))
        }
        return notYet.reduce(applies(obligation)) { $0 && $1 }
    }

    /// The bound obligations.
    var obligations: [Rule] { rules.filter { $0.kind == .obligation } }

    /// Whether a record is not yet anonymized: the marker column is null, or (without a marker) some
    /// column still differs from its null/fixed replacement.
    var notYetAnonymized: RecordPredicate {
        if let marker = dataset.anonymizedColumn { return .isNull(marker) }
        let tests: [RecordPredicate] = dataset.anonymize.sorted { $0.key < $1.key }.map { column, strategy in
            switch strategy {
            case .fixed(let value): .isNotNull(column) && .distinct(column, from: .text(value))
            default: .isNotNull(column)
            }
        }
        return tests.reduce(RecordPredicate.never, ||)
    }

    var notYetRestricted: RecordPredicate { dataset.restrictColumn.map(RecordPredicate.isNull) ?? .never }

    /// Every stage that can act on this dataset, with its predicate at `now`, in the order a pass
    /// runs them: anonymize and restrict stages (an earlier stage acts before a later one takes
    /// the record), then erasures, then the deletions of purposes and obligations.
    package func stages(at now: Date) -> [PlannedStage] {
        var actions: [PlannedStage] = [], erasures: [PlannedStage] = [], deletions: [PlannedStage] = []
        let othersRelease = keepersReleaseExceptEach(at: now)
        // An erasure waits only for the obligations; its deadline counts again from a deferral's end.
        let obligationsRelease = obligations.reduce(RecordPredicate.always) { $0 && released($1, at: now) }
        for rule in rules where rule.enforcedBy.isEnforceableHere {
            switch rule.retention {
            case .forever:
                continue
            case .never:
                let due = applies(rule)
                erasures.append(PlannedStage(rule: rule, stageIndex: 0, action: .delete, cutoff: now,
                                             predicate: due && obligationsRelease, isViolation: true))
                if let deferral = deferral(of: rule, stage: 0, cutoff: now, due: due, at: now) { actions.append(deferral) }
            case .stages(let stages):
                for (index, stage) in stages.enumerated() {
                    let cutoff = rule.cutoff(for: stage, at: now)
                    let due = applies(rule) && .before(columns: columns(rule.anchor), cutoff: cutoff)
                    switch (stage.action, rule.kind) {
                    case (.anonymize, _):
                        actions.append(PlannedStage(rule: rule, stageIndex: index, action: .anonymize, cutoff: cutoff,
                                                    predicate: due && notYetAnonymized, isViolation: false))
                    case (.restrict, _):
                        actions.append(PlannedStage(rule: rule, stageIndex: index, action: .restrict, cutoff: cutoff,
                                                    predicate: due && notYetRestricted, isViolation: false))
                    case (.delete, .erasure):
                        var erasure = PlannedStage(rule: rule, stageIndex: index, action: .delete, cutoff: cutoff,
                                                   predicate: due && obligationsRelease, isViolation: false)
                        erasure.overdue = overdue(of: rule, deleting: erasure.predicate, at: now)
                        erasures.append(erasure)
                        if let deferral = deferral(of: rule, stage: index, cutoff: cutoff, due: due, at: now) { actions.append(deferral) }
                    case (.delete, _):
                        var deletion = PlannedStage(rule: rule, stageIndex: index, action: .delete, cutoff: cutoff,
                                                    predicate: due && (othersRelease[rule.id] ?? .always), isViolation: false)
                        deletion.overdue = overdue(of: rule, deleting: deletion.predicate, at: now)
                        deletions.append(deletion)
                    }
                }
            }
        }
        return actions + erasures + deletions
    }

    /// For each purpose or obligation rule, the release of every *other* keeping rule. Built from
    /// prefix and suffix products, so that a dataset under 200 rules costs 200 small predicates, not
    /// 200 × 200; `&&` folds rules without conditions on the same anchor into one test.
    func keepersReleaseExceptEach(at now: Date) -> [String: RecordPredicate] {
        let releases = rules.map { released($0, at: now) }
        let suffixes = releases.indices.reversed().reduce(into: [RecordPredicate](repeating: .always, count: releases.count + 1)) { result, index in
            result[index] = releases[index] && result[index + 1]
        }
        var prefix = RecordPredicate.always
        var others: [String: RecordPredicate] = [:]
        for (index, rule) in rules.enumerated() {
            others[rule.id] = prefix && suffixes[index + 1]
            prefix = prefix && releases[index]
        }
        return others
    }

    /// The restriction of the records whose erasure under `rule` an obligation defers; nil when no
    /// obligation is bound. Stores without a `restrict:` column get the stage too (predicate
    /// `never`), so the deferral is still counted, shown and logged.
    func deferral(of rule: Rule, stage: Int, cutoff: Date, due: RecordPredicate, at now: Date) -> PlannedStage? {
        let blocking = obligations.map { ($0, runs($0, at: now)) }
        guard !blocking.isEmpty else { return nil }
        let deferred = due && blocking.map(\.1).reduce(RecordPredicate.never, ||)
        var restriction = PlannedStage(rule: rule, stageIndex: stage, action: .restrict, cutoff: cutoff,
                                       predicate: deferred && notYetRestricted, isViolation: false)
        restriction.deferral = .init(deferred: deferred, obligations: blocking.map { (rule: $0.0, blocks: due && $0.1) })
        return restriction
    }

    /// The records an erasure deletes later than its deadline: past the deadline counted from the
    /// anchor, and — when an obligation deferred it — past the deadline counted from the end of the
    /// deferral as well (every obligation had let go by `now` minus the deadline).
    func overdue(of rule: Rule, deleting: RecordPredicate, at now: Date) -> RecordPredicate? {
        guard let cutoff = rule.deadlineCutoff(at: now), let deferralEnd = rule.deferralEndForLateness(at: now) else { return nil }
        let releasedLongEnough = obligations.reduce(RecordPredicate.always) { $0 && released($1, at: deferralEnd) }
        return deleting && .before(columns: columns(rule.anchor), cutoff: cutoff) && releasedLongEnough
    }
}
