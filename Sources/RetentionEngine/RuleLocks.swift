import RetentionRules

/// `lock: true` rules may be lengthened by a later rules or stores file, never shortened or removed:
/// the state database remembers each locked rule as it was last accepted — every stage, its zone,
/// alignment and `when:`, and every dataset it was bound to with the columns its fields read there —
/// and a change that would let any record go sooner is refused.
enum RuleLocks: Sendable {
    /// Every way `rules` and `stores` weaken a remembered locked rule, as messages naming the rule.
    static func violations(of locked: [LockedRule], by rules: RuleSet, stores: StoreSet) -> [String] {
        locked.flatMap { old -> [String] in
            guard let rule = rules[old.rule] else {
                return ["locked rule '\(old.rule)' was removed from the rules files; a locked rule may be lengthened, never removed"]
            }
            var problems = period(of: rule, was: old)
            if let form = old.form {
                problems += shape(of: rule, was: form) + bindings(of: rule, were: form.bindings, in: stores)
            }
            return problems
        }
    }

    /// The lock itself, the kind, the retention and every stage.
    private static func period(of rule: Rule, was old: LockedRule) -> [String] {
        var problems: [String] = []
        if !rule.lock {
            problems.append("\(rule.location): rule '\(rule.id)' was locked and no longer says 'lock: true'; a lock cannot be lifted by a rules file")
        }
        if rule.kind.keepingStrength < old.kind.keepingStrength {
            problems.append("\(rule.location): locked rule '\(rule.id)' was \(article(old.kind)) \(old.kind.rawValue) and is now \(article(rule.kind)) "
                            + "\(rule.kind.rawValue); a locked rule's kind may only keep more (erasure → purpose → obligation)")
        }
        if old.retention == "forever", rule.retention != .forever {
            problems.append("\(rule.location): locked rule '\(rule.id)' kept its data forever and now has an end; a locked rule cannot be shortened")
        }
        guard old.retention == "stages" else { return problems }
        if (rule.anchor?.fields ?? []) != old.anchor {
            problems.append("\(rule.location): locked rule '\(rule.id)' counted from \(old.anchor.joined(separator: ", ")) and now from "
                            + "\(rule.anchor?.fields.joined(separator: ", ") ?? "nothing"); a locked rule's anchor cannot change")
        }
        switch rule.retention {
        case .never:
            problems.append("\(rule.location): locked rule '\(rule.id)' became 'retain: none'; a locked rule cannot be shortened")
        case .forever:
            break
        case .stages(let stages):
            problems += self.stages(stages, of: rule, were: old.stages)
        }
        return problems
    }

    /// Each stage now must be one of the remembered stages (same action, in the same order), no
    /// earlier: a stage may be dropped or moved later, never added or moved earlier.
    private static func stages(_ stages: [Stage], of rule: Rule, were old: [Stage]) -> [String] {
        var problems: [String] = []
        var next = old.startIndex
        for stage in stages {
            guard let match = old[next...].firstIndex(where: { $0.action == stage.action }) else {
                problems.append("\(rule.location): locked rule '\(rule.id)' gained a stage '\(stage.action.rawValue) after \(stage.after)' "
                                + "(it had \(describe(old))); a locked rule may be lengthened, never shortened")
                continue
            }
            if !stage.after.isNeverShorter(than: old[match].after) {
                problems.append("\(rule.location): locked rule '\(rule.id)' kept data \(old[match].after) before its stage "
                                + "'\(stage.action.rawValue)' and now \(stage.after); a locked rule may be lengthened, never shortened")
            }
            next = old.index(after: match)
        }
        return problems
    }

    /// The zone, the alignment, the `when:` and who enforces it.
    private static func shape(of rule: Rule, was form: LockedRule.Form) -> [String] {
        var problems: [String] = []
        if rule.timeZone != form.timeZone {
            problems.append("\(rule.location): locked rule '\(rule.id)' counted in \(form.timeZone) and now in \(rule.timeZone); "
                            + "a locked rule's zone cannot change (it moves every cutoff by hours)")
        }
        if rank(rule.alignment?.rawValue) < rank(form.alignment) {
            problems.append("\(rule.location): locked rule '\(rule.id)' was aligned to \(form.alignment ?? "the anchor itself") and now to "
                            + "\(rule.alignment?.rawValue ?? "the anchor itself"); a locked rule's period may only start later")
        }
        if !widens(rule.condition, form.condition) {
            problems.append("\(rule.location): locked rule '\(rule.id)' applied \(form.condition.map { "when \($0)" } ?? "to every record") and now "
                            + "\(rule.condition.map { "when \($0)" } ?? "to every record"); a locked rule's 'when:' may only widen "
                            + "(be removed, or gain alternatives with 'or')")
        }
        if form.enforcedBy == Enforcement.retentiond.rawValue, rule.enforcedBy != .retentiond {
            problems.append("\(rule.location): locked rule '\(rule.id)' was enforced by retentiond and now by \(rule.enforcedBy.rawValue); "
                            + "a locked rule cannot be handed off by a rules file")
        }
        return problems
    }

    /// Every dataset the rule was bound to, by name or by the table it reads, must still bind it and
    /// read the same columns for its fields.
    private static func bindings(of rule: Rule, were old: [LockedRule.Binding], in stores: StoreSet) -> [String] {
        var problems: [String] = []
        for store in stores.stores {
            for dataset in store.datasets {
                let now = LockedRule.binding(of: rule, to: dataset, in: store)
                let remembered = old.filter { ($0.store == store.id && $0.dataset == dataset.id) || $0.target == now.target }
                guard let was = remembered.first else { continue }
                let place = "\(dataset.location): dataset '\(dataset.id)' of store '\(store.id)'"
                if !dataset.rules.contains(rule.id) {
                    let origin = was.store == store.id && was.dataset == dataset.id ? "" : " (which reads what '\(was.store)/\(was.dataset)' read)"
                    problems.append("\(place)\(origin) was bound to locked rule '\(rule.id)' and no longer is; "
                                    + "a locked rule cannot be unbound from its data")
                    continue
                }
                // A field the rule no longer reads (a `when:` removed) is no longer compared.
                for (field, column) in was.fields.sorted(by: { $0.key < $1.key }) where now.fields[field].map({ $0 != column }) ?? false {
                    problems.append("\(place) read locked rule '\(rule.id)''s field '\(field)' from '\(column)' and now from "
                                    + "'\(now.fields[field] ?? "")'; a locked rule's fields cannot be mapped to other columns")
                }
            }
        }
        return problems
    }

    /// Whether `new` applies to every record `old` applied to: no condition, the same one, or the
    /// old one (or all its alternatives) among the alternatives of an `or`.
    static func widens(_ new: Condition?, _ old: String?) -> Bool {
        guard let new else { return true }
        guard let old else { return false }
        let alternatives = Set(disjuncts(new).map(\.description))
        if alternatives.contains(old) { return true }
        // Parse the old text again to compare it alternative by alternative.
        guard let oldCondition = try? Condition.parse(old) else { return false }
        return Set(disjuncts(oldCondition).map(\.description)).isSubset(of: alternatives)
    }

    private static func disjuncts(_ condition: Condition) -> [Condition] {
        if case .or(let lhs, let rhs) = condition { return disjuncts(lhs) + disjuncts(rhs) }
        return [condition]
    }

    private static func rank(_ alignment: String?) -> Int {
        switch alignment.flatMap(Alignment.init(rawValue:)) {
        case nil: 0
        case .endOfDay: 1
        case .endOfMonth: 2
        case .endOfYear: 3
        }
    }

    private static func describe(_ stages: [Stage]) -> String {
        stages.isEmpty ? "none" : stages.map { "\($0.action.rawValue) after \($0.after)" }.joined(separator: ", ")
    }

    private static func article(_ kind: Kind) -> String { kind == .obligation ? "an" : "a" }
}
