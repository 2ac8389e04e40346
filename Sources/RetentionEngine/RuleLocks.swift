public import RetentionRules

/// `lock: true` rules may be lengthened by a later rules file, never shortened or removed: the
/// state database remembers each locked rule as it was last accepted.
public enum RuleLocks: Sendable {
    /// Every way `rules` weakens a remembered locked rule, as messages naming the rule.
    public static func violations(of locked: [LockedRule], by rules: RuleSet) -> [String] {
        var problems: [String] = []
        for old in locked {
            guard let rule = rules[old.rule] else {
                problems.append("locked rule '\(old.rule)' was removed from the rules files; a locked rule may be lengthened, never removed")
                continue
            }
            if !rule.lock {
                problems.append("\(rule.location): rule '\(rule.id)' was locked and no longer says 'lock: true'; a lock cannot be lifted by a rules file")
            }
            if rule.kind.keepingStrength < old.kind.keepingStrength {
                problems.append("\(rule.location): locked rule '\(rule.id)' was \(article(old.kind)) \(old.kind.rawValue) and is now \(article(rule.kind)) "
                                + "\(rule.kind.rawValue); a locked rule's kind may only keep more (erasure → purpose → obligation)")
            }
            if old.retention == "forever", rule.retention != .forever {
                problems.append("\(rule.location): locked rule '\(rule.id)' kept its data forever and now has an end; a locked rule cannot be shortened")
                continue
            }
            if old.retention == "stages" {
                if (rule.anchor?.fields ?? []) != old.anchor {
                    problems.append("\(rule.location): locked rule '\(rule.id)' counted from \(old.anchor.joined(separator: ", ")) and now from "
                                    + "\(rule.anchor?.fields.joined(separator: ", ") ?? "nothing"); a locked rule's anchor cannot change")
                }
                if case .stages(let stages) = rule.retention, let was = old.stages.last, let now = stages.last,
                   !now.after.isNeverShorter(than: was.after) {
                    problems.append("\(rule.location): locked rule '\(rule.id)' kept data \(was.after) and now \(now.after); "
                                    + "a locked rule may be lengthened, never shortened")
                } else if rule.retention == .never {
                    problems.append("\(rule.location): locked rule '\(rule.id)' became 'retain: none'; a locked rule cannot be shortened")
                }
            }
        }
        return problems
    }

    private static func article(_ kind: Kind) -> String { kind == .obligation ? "an" : "a" }
}
