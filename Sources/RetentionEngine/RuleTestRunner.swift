import Foundation
package import RetentionRules

/// Runs rule test files (`retentionctl test`): each expectation is evaluated with the planner's own
/// predicates on the record in memory, and held against the record-by-record model
/// (`RecordDecision`), so a test fails if either says otherwise.
package enum RuleTestRunner: Sendable {
    /// What running one file found.
    package struct Result: Sendable {
        /// Located errors (a bad file, an unknown rule, field or record) and failed expectations.
        package var diagnostics: [Diagnostic] = []
        package var passed = 0
        package var failed = 0
    }

    /// What the planner does to one record at one instant.
    struct Observed {
        var deletedBy: String?
        var late = false
        var deferral: (erasure: String, by: [String])?
        var restrictedBy: String?
        var anonymizedBy: String?
        var decision: RecordDecision
    }

    /// Checks the file against `rules`, then evaluates every expectation, its records meant as
    /// `codec` says; a file with an error runs none.
    package static func run(_ file: RuleTestFile, rules: RuleSet, codec: some StoreCodec) -> Result {
        var result = Result()
        for test in file.tests { result.diagnostics += check(test, rules: rules) }
        guard result.diagnostics.isEmpty else { return result }
        for test in file.tests {
            let (store, dataset) = test.dataset(in: rules)
            let policy = DatasetPolicy(store: store, dataset: dataset, rules: rules)
            let records = Dictionary(test.records.map { ($0.name, $0.values.mapValues(storeValue)) }, uniquingKeysWith: { a, _ in a })
            for expectation in test.expectations {
                let record = records[expectation.record] ?? [:]
                let observed = observe(policy, record, key: .text(expectation.record), at: expectation.at, codec: codec)
                if let problem = mismatch(expectation, observed) {
                    result.failed += 1
                    result.diagnostics.append(.error("\(expectation.record) at \(InstantText.format(expectation.at)): expected \(describe(expectation)); "
                                                     + "found \(describe(observed))" + (problem.isEmpty ? "" : " (\(problem))"),
                                                     at: expectation.location))
                } else {
                    result.passed += 1
                }
            }
        }
        return result
    }

    /// Unknown rules, records and fields, located.
    static func check(_ test: RuleTest, rules: RuleSet) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        let known = rules.rules.map(\.id)
        for (id, location) in test.rules where rules[id] == nil {
            problems.append(.error("test '\(test.name)' binds rule '\(id)', which the rules files do not define" + Suggestion.hint(for: id, among: known), at: location))
        }
        let logical = test.logicalFields(in: rules)
        for field in test.fields.keys.sorted() where !logical.contains(field) {
            problems.append(.error("test '\(test.name)': 'fields:' maps '\(field)', which no bound rule reads"
                                   + Suggestion.hint(for: field, among: logical), at: test.location))
        }
        let readable = logical.map { test.fields[$0] ?? $0 } + [test.restrictField, test.anonymizedField]
        for record in test.records {
            for field in record.values.keys.sorted() where !readable.contains(field) {
                problems.append(.error("record '\(record.name)' has field '\(field)', which no bound rule reads"
                                       + Suggestion.hint(for: field, among: readable), at: record.location))
            }
        }
        let bound = test.rules.map(\.id)
        for expectation in test.expectations {
            if !test.records.contains(where: { $0.name == expectation.record }) {
                problems.append(.error("no record '\(expectation.record)' in test '\(test.name)'"
                                       + Suggestion.hint(for: expectation.record, among: test.records.map(\.name)), at: expectation.recordLocation))
            }
            for (name, location) in [(expectation.rule, expectation.ruleLocation), (expectation.by, expectation.byLocation)] {
                if let name, !bound.contains(name) {
                    problems.append(.error("rule '\(name)' is not bound in test '\(test.name)'" + Suggestion.hint(for: name, among: bound),
                                           at: location ?? expectation.location))
                }
            }
        }
        return problems
    }

    static func storeValue(_ value: RuleTestValue) -> StoreValue {
        switch value {
        case .null: .null
        case .integer(let v): .integer(v)
        case .real(let v): .real(v)
        case .text(let v): .text(v)
        case .instant(let v): .date(v)
        }
    }

    /// The planner's stages evaluated on the record, in the order a pass runs them.
    static func observe(_ policy: DatasetPolicy, _ record: [String: StoreValue], key: RecordKey, at now: Date,
                        codec: some StoreCodec) -> Observed {
        var observed = Observed(decision: RecordDecision(policy: policy, record: record, key: key, at: now, codec: codec))
        let holds = { (predicate: RecordPredicate) in predicate.evaluate(record, key: key, codec: codec) == true }
        for stage in policy.stages(at: now) {
            if let deferral = stage.deferral, observed.deferral == nil, holds(deferral.deferred) {
                observed.deferral = (stage.rule.id, deferral.obligations.filter { holds($0.blocks) }.map(\.rule.id))
            }
            guard holds(stage.predicate) else { continue }
            switch stage.action {
            case .anonymize: observed.anonymizedBy = observed.anonymizedBy ?? stage.rule.id
            case .restrict: observed.restrictedBy = observed.restrictedBy ?? stage.rule.id
            case .delete where observed.deletedBy == nil:
                observed.deletedBy = stage.rule.id
                observed.late = stage.isViolation || (stage.overdue.map(holds) ?? false)
            case .delete: break
            }
        }
        return observed
    }

    /// Why the expectation does not hold ("" when only the outcome differs), or nil when it holds.
    static func mismatch(_ expected: RuleTestExpectation, _ observed: Observed) -> String? {
        if let disagreement = disagreement(observed) { return disagreement }
        let matches = { (rule: String?) in expected.rule == nil || expected.rule == rule }
        switch expected.outcome {
        case .deleted: return observed.deletedBy != nil && matches(observed.deletedBy) ? nil : ""
        case .violation: return observed.deletedBy != nil && observed.late && matches(observed.deletedBy) ? nil : ""
        case .restricted: return observed.restrictedBy != nil && matches(observed.restrictedBy) ? nil : ""
        case .anonymized: return observed.anonymizedBy != nil && matches(observed.anonymizedBy) ? nil : ""
        case .deferred:
            guard let deferral = observed.deferral, matches(deferral.erasure) else { return "" }
            if let by = expected.by, !deferral.by.contains(by) { return "" }
            guard case .deferred(_, _, let until) = observed.decision.outcome else { return "" }
            return untilMatches(expected.until, until) ? nil : ""
        case .kept:
            guard observed.deletedBy == nil, observed.deferral == nil, case .kept(let by, let until) = observed.decision.outcome else { return "" }
            return matches(by) && untilMatches(expected.until, until) ? nil : ""
        }
    }

    static func untilMatches(_ expected: RuleTestExpectation.Until?, _ found: Date?) -> Bool {
        switch expected {
        case nil: true
        case .never: found == nil
        case .instant(let date): found.map { $0.microsecondsSince1970 == date.microsecondsSince1970 } ?? false
        }
    }

    /// The planner's predicates and the model must agree on the record's fate; a test that finds
    /// otherwise has found a bug in retentiond, not in the rules.
    static func disagreement(_ observed: Observed) -> String? {
        switch observed.decision.outcome {
        case .deleted(let rule, let late) where observed.deletedBy == rule && observed.late == late && observed.deferral == nil: return nil
        case .deferred(let erasure, let by, _) where observed.deletedBy == nil && observed.deferral?.erasure == erasure
            && Set(observed.deferral?.by ?? []) == Set(by): return nil
        case .kept where observed.deletedBy == nil && observed.deferral == nil: return nil
        case .held: return nil
        default:
            return "retentiond's planner and its model disagree here: the model says \(describe(observed.decision.outcome)); please report this"
        }
    }

    static func describe(_ expected: RuleTestExpectation) -> String {
        var text = expected.outcome.rawValue
        if let rule = expected.rule { text += expected.outcome == .kept ? " by rule \(rule)" : " under rule \(rule)" }
        if let by = expected.by { text += " by rule \(by)" }
        switch expected.until {
        case .never?: text += " until never"
        case .instant(let date)?: text += " until \(InstantText.format(date))"
        case nil: break
        }
        return text
    }

    static func describe(_ outcome: RecordDecision.Outcome) -> String {
        switch outcome {
        case .held: "held"
        case .deleted(let rule, let late): "deleted under rule \(rule)" + (late ? ", past its deadline (violation)" : "")
        case .deferred(let erasure, let by, let until):
            "erasure under rule \(erasure) deferred by " + by.map { "rule \($0)" }.joined(separator: " and ")
                + " until " + (until.map(InstantText.format) ?? "never")
        case .kept(let by, let until):
            by.map { "kept by rule \($0) until " + (until.map(InstantText.format) ?? "never") } ?? "kept (no applicable rule deletes it)"
        }
    }

    static func describe(_ observed: Observed) -> String {
        var parts = [describe(observed.decision.outcome)]
        if let rule = observed.restrictedBy { parts.append("restricted under rule \(rule)") }
        if let rule = observed.anonymizedBy { parts.append("anonymized under rule \(rule)") }
        return parts.joined(separator: "; ")
    }
}
