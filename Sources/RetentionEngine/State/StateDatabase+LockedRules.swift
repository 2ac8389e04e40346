import Foundation
import GRDB
import RetentionRules

/// A row of the `locked_rule` table: what decides how long a locked rule keeps a record, the
/// anchor, stages and form as JSON.
package struct LockedRuleRow: Sendable, Codable, FetchableRecord, PersistableRecord {
    package static let databaseTableName = "locked_rule"
    package var rule: String
    package var anchor: String
    package var stages: String
    package var retention: String
    package var kind: String
    package var recordedAt: String
    package var form: String?

    package enum CodingKeys: String, CodingKey {
        case rule, anchor, stages, retention, kind, recordedAt = "recorded_at", form
    }

    package init(_ locked: LockedRule) throws {
        (rule, retention, kind, recordedAt) = (locked.rule, locked.retention, locked.kind.rawValue, InstantText.format(locked.recordedAt))
        anchor = try StateDatabase.json(locked.anchor)
        stages = try StateDatabase.json(locked.stages)
        form = try locked.form.map(StateDatabase.json)
    }

    package var lockedRule: LockedRule {
        get throws {
            let decoder = JSONDecoder()
            return LockedRule(rule: rule, anchor: try decoder.decode([String].self, from: Data(anchor.utf8)),
                              stages: try decoder.decode([Stage].self, from: Data(stages.utf8)), retention: retention,
                              kind: Kind(rawValue: kind) ?? .purpose, recordedAt: InstantText.parse(recordedAt) ?? .distantPast,
                              form: try form.map { try decoder.decode(LockedRule.Form.self, from: Data($0.utf8)) })
        }
    }
}

/// Locked rules: what the state database remembers of each `lock: true` rule, so that no later
/// rules or stores file shortens it (`RuleLocks`).
extension StateDatabase {
    /// The locked rules remembered so far.
    package func lockedRules() throws(StateError) -> [LockedRule] {
        try read { db in try LockedRuleRow.order(Column(LockedRuleRow.CodingKeys.rule)).fetchAll(db).map { try $0.lockedRule } }
    }

    /// Remembers these forms of locked rules, in one transaction, replacing what was remembered of
    /// the same rules.
    package func remember(_ locked: [LockedRule]) throws(StateError) {
        try write { db in
            for rule in locked { try LockedRuleRow(rule).insert(db, onConflict: .replace) }
        }
    }
}
