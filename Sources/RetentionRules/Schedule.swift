/// The retention schedule: every rule as a DPO files it in the record of processing activities.
///
/// Its JSON form (`retentionctl schedule --format json`) is a stable interface that later tools
/// read; `docs/schedule-json.md` documents it. Add keys, never rename or remove them, within one
/// `version`.
public struct Schedule: Sendable, Hashable, Codable {
    /// Always `retentiond-schedule`.
    package var format = "retentiond-schedule"
    /// The version of this JSON layout.
    var version = 1
    /// The rules files read, in order.
    package var files: [String]
    /// One entry per rule, in file and document order.
    package var rules: [Entry]

    /// One rule in the schedule.
    package struct Entry: Sendable, Hashable, Codable {
        /// The rule id.
        package var id: String
        package var title: String?
        /// `period` (finite stages), `forever` or `none`.
        package var kind: String
        /// The stages with their period and action; empty for `forever` and `none`.
        package var stages: [Stage]
        /// The anchor fields (the earliest present counts); empty when the rule has none.
        package var from: [String]
        package var align: String?
        package var timezone: String
        /// The `when:` condition in canonical form.
        package var when: String?
        package var deadline: String?
        package var lock: Bool
        /// `required` when jobs wait for approval, `none` otherwise.
        package var review: String
        package var basis: String?
        package var source: String?
        package var note: String?
        /// The source is ambiguous; the rule encodes the interpretation in `note`: review it.
        package var ambiguous: Bool
        /// `retentiond`, `browser`, `vendor` or `manual`.
        package var enforcedBy: String
        /// Whether retentiond enforces the period itself.
        package var enforceable: Bool
        /// Where the rule is written.
        package var file: String
        package var line: Int

        enum CodingKeys: String, CodingKey {
            case id, title, kind, stages, from, align, timezone, when, deadline, lock, review, basis, source, note
            case ambiguous
            case enforcedBy = "enforced_by"
            case enforceable, file, line
        }

        /// The entry for `rule`.
        package init(_ rule: Rule) {
            id = rule.id
            title = rule.title
            switch rule.retention {
            case .stages: kind = "period"
            case .forever: kind = "forever"
            case .never: kind = "none"
            }
            stages = rule.retention.stages
            from = rule.anchor?.fields ?? []
            align = rule.alignment?.rawValue
            timezone = rule.timeZone
            when = rule.condition?.description
            deadline = rule.deadline?.description
            lock = rule.lock
            review = rule.review.rawValue
            basis = rule.basis
            source = rule.source
            note = rule.note
            ambiguous = rule.ambiguous
            enforcedBy = rule.enforcedBy.rawValue
            enforceable = rule.enforcedBy.isEnforceableHere
            file = rule.location.file
            line = rule.location.line
        }

        /// `10y delete`, `7d anonymize, 90d delete`, `forever`, `none (must not be stored)`.
        package var periodSummary: String {
            switch kind {
            case "forever": "forever"
            case "none": "none (must not be stored)"
            default: stages.map { "\($0.after) \($0.action.rawValue)" }.joined(separator: ", ")
            }
        }

        package func encode(to encoder: any Encoder) throws {
            // Explicit nulls keep every key present, so readers need not guess absent vs empty.
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(title, forKey: .title)
            try container.encode(kind, forKey: .kind)
            try container.encode(stages, forKey: .stages)
            try container.encode(from, forKey: .from)
            try container.encode(align, forKey: .align)
            try container.encode(timezone, forKey: .timezone)
            try container.encode(when, forKey: .when)
            try container.encode(deadline, forKey: .deadline)
            try container.encode(lock, forKey: .lock)
            try container.encode(review, forKey: .review)
            try container.encode(basis, forKey: .basis)
            try container.encode(source, forKey: .source)
            try container.encode(note, forKey: .note)
            try container.encode(ambiguous, forKey: .ambiguous)
            try container.encode(enforcedBy, forKey: .enforcedBy)
            try container.encode(enforceable, forKey: .enforceable)
            try container.encode(file, forKey: .file)
            try container.encode(line, forKey: .line)
        }
    }

    /// The schedule of a rule set.
    public init(_ ruleSet: RuleSet) {
        files = ruleSet.files
        rules = ruleSet.rules.map(Entry.init)
    }
}
