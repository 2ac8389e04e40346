/// Bindings that cannot work as their author meant: rules bound to one dataset that the others
/// bound with them keep from ever acting, and kinds assumed where they decide. Each finding is a
/// warning at the dataset's `rules:` line, with what to change.
enum BindingCheck {
    static func check(_ dataset: Dataset, of store: Store, rules: RuleSet) -> [Diagnostic] {
        let bound = dataset.rules.compactMap { rules[$0] }
        guard bound.count > 1 else { return [] }
        let at = dataset.location(of: "rules")
        let place = "dataset '\(dataset.id)' of store '\(store.id)'"
        var problems: [Diagnostic] = []
        let deletes = { (rule: Rule) in rule.retention.stages.contains { $0.action == .delete } }
        // One warning per dataset and assumed kind: a dataset under 200 unmarked rules is one line, not 200.
        for kind in Kind.allCases {
            let ids = bound.lazy.filter { !$0.kindIsExplicit && $0.kind == kind && (deletes($0) || $0.retention == .forever) }.map { "'\($0.id)'" }
            guard let first = ids.first else { continue }
            let count = ids.count
            let named = count == 1 ? "rule \(first) says" : "rules " + ids.prefix(5).joined(separator: ", ")
                + (count > 5 ? " and \(count - 5) more" : "") + " say"
            problems.append(.warning("\(place): \(named) no 'kind:'; assumed \(kind.rawValue). Where several rules are bound the "
                                     + "kind decides which deletes: say 'kind: purpose', 'obligation' or 'erasure'", at: at))
        }
        // The checks below compare rules pairwise; most datasets have none of the rules they start from.
        let forevers = bound.filter { $0.retention == .forever && $0.condition == nil }
        let obligations = bound.filter { $0.kind == .obligation && $0.condition == nil }
        let untilEvent = bound.filter { $0.kind == .purpose && $0.condition == nil && deletes($0) && $0.retention.stages.allSatisfy(\.after.isZero) }
        guard !forevers.isEmpty || !obligations.isEmpty || !untilEvent.isEmpty else { return problems }
        let keepers = bound.filter { $0.kind != .erasure && deletes($0) && $0.enforcedBy.isEnforceableHere }
        for forever in forevers {
            for keeper in keepers {
                problems.append(.warning("\(place): rule '\(keeper.id)' can never delete here: rule '\(forever.id)' keeps every record "
                                         + "forever (it has no 'when:'); give '\(forever.id)' a 'when:' naming the records it keeps, "
                                         + "or make '\(keeper.id)' an erasure if it must delete regardless", at: at))
            }
        }
        for obligation in obligations {
            for erasure in bound where erasure.kind == .erasure && erasure.enforcedBy.isEnforceableHere && (deletes(erasure) || erasure.retention == .never) {
                problems.append(.warning("\(place): every erasure under rule '\(erasure.id)' is deferred until obligation "
                                         + "'\(obligation.id)' ends: it has no 'when:', so it covers every record of the dataset. If the "
                                         + "duty covers only some records, give '\(obligation.id)' a 'when:' naming them", at: at))
            }
        }
        // "Kept until EVENT" (0d from an event) without `when:`: a default that keeps every record whose event
        // was never recorded, which turns the other purposes' "delete when X" into "when X and EVENT". An
        // obligation's end deleting only what no purpose still keeps is the intended storage limitation.
        for purpose in untilEvent {
            for keeper in keepers where keeper.kind == .purpose && keeper.id != purpose.id && keeper.anchor != purpose.anchor {
                let anchor = purpose.anchor?.description ?? "its anchor"
                problems.append(.warning("\(place): rule '\(purpose.id)' applies to every record and keeps each one whose \(anchor) is "
                                         + "null (its period has not started), so rule '\(keeper.id)' deletes none of those; give "
                                         + "'\(purpose.id)' 'when: \(purpose.anchor?.fields.first ?? "FIELD") is not null' if it should not "
                                         + "keep them, or make '\(keeper.id)' an erasure", at: at))
            }
        }
        return problems
    }
}
