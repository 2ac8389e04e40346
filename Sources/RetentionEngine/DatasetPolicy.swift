public import Foundation
public import RetentionRules

/// One stage of one rule on one dataset, with the records it makes due at an instant.
public struct PlannedStage: Sendable, Hashable {
    public var rule: Rule
    /// The stage's index in the rule.
    public var stageIndex: Int
    public var action: Action
    /// A record is due when its anchor is earlier than this (for `retain: none`, the instant itself).
    public var cutoff: Date
    /// Every record this stage acts on now, conflicts with the other rules resolved; holds on
    /// single records are added when the job runs.
    public var predicate: RecordPredicate
    /// Whether the records are violations (`retain: none`).
    public var isViolation: Bool
}

/// The rules of one dataset, resolved against each other (DESIGN §6):
///
/// - a record is deleted only when every applicable rule that retains it has expired — a rule
///   with a delete stage retains a record until that stage is due (a rule whose anchor is null has
///   not started its period), `forever` always; a rule that only anonymizes or restricts retains
///   nothing;
/// - anonymize and restrict stages act on their own, in the order of the rule's stages, and only on
///   records not yet anonymized or restricted, so nothing is processed twice;
/// - `retain: none` makes every record it applies to due at once, reported as a violation;
/// - a hold beats every rule (added by the engine when the job runs).
public struct DatasetPolicy: Sendable {
    public var store: Store
    public var dataset: Dataset
    /// The dataset's rules that retentiond enforces or that still retain (unknown ids left out).
    public var rules: [Rule]

    /// Resolves the dataset's rule ids against a rule set.
    public init(store: Store, dataset: Dataset, rules: RuleSet) {
        self.store = store
        self.dataset = dataset
        self.rules = dataset.rules.compactMap { rules[$0] }
    }

    /// The dataset's key column (files: the path).
    public var keyColumn: String { dataset.key ?? "path" }

    func columns(_ anchor: Anchor?) -> [String] {
        (anchor?.fields ?? []).compactMap { dataset.fields[$0] }
    }

    /// The rule applies to the record: its condition holds.
    func applies(_ rule: Rule) -> RecordPredicate {
        rule.condition.map { .condition($0, columns: dataset.fields) } ?? .always
    }

    /// The rule no longer retains the record: its delete stage is due (never for `forever`). A rule
    /// that only anonymizes or restricts makes no claim on how long the record is kept.
    func released(_ rule: Rule, at now: Date) -> RecordPredicate {
        switch rule.retention {
        case .forever: return .never
        case .never: return .always
        case .stages(let stages):
            guard let delete = stages.last(where: { $0.action == .delete }) else { return .always }
            return .before(columns: columns(rule.anchor), cutoff: rule.cutoff(for: delete, at: now))
        }
    }

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

    /// Every stage that can act on this dataset, with its predicate at `now`.
    public func stages(at now: Date) -> [PlannedStage] {
        var planned: [PlannedStage] = []
        // Deletion waits for every other applicable rule to let go of the record. Each rule's
        // letting go is computed once; `othersRelease` then ANDs all but the rule's own, which the
        // && operator folds (rules without conditions on the same anchor: one test, the earliest
        // cutoff), so that a dataset under 200 rules costs 200 small predicates, not 200 × 200.
        let releases = rules.map { applies($0).negated || released($0, at: now) }
        let suffixes = releases.indices.reversed().reduce(into: [RecordPredicate](repeating: .always, count: releases.count + 1)) { result, index in
            result[index] = releases[index] && result[index + 1]
        }
        var prefix = RecordPredicate.always
        var othersReleases: [String: RecordPredicate] = [:]
        for (index, rule) in rules.enumerated() {
            othersReleases[rule.id] = prefix && suffixes[index + 1]
            prefix = prefix && releases[index]
        }
        for rule in rules where rule.enforcedBy.isEnforceableHere {
            let othersRelease = othersReleases[rule.id] ?? .always
            switch rule.retention {
            case .forever:
                continue
            case .never:
                planned.append(PlannedStage(rule: rule, stageIndex: 0, action: .delete, cutoff: now,
                                            predicate: applies(rule) && othersRelease, isViolation: true))
            case .stages(let stages):
                for (index, stage) in stages.enumerated() {
                    let cutoff = rule.cutoff(for: stage, at: now)
                    let due = applies(rule) && .before(columns: columns(rule.anchor), cutoff: cutoff)
                    let predicate: RecordPredicate = switch stage.action {
                    case .delete: due && othersRelease
                    case .anonymize: due && notYetAnonymized
                    case .restrict: due && (dataset.restrictColumn.map(RecordPredicate.isNull) ?? .never)
                    }
                    planned.append(PlannedStage(rule: rule, stageIndex: index, action: stage.action, cutoff: cutoff,
                                                predicate: predicate, isViolation: false))
                }
            }
        }
        return planned
    }
}
