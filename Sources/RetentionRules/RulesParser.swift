import Foundation
import Yams

/// Reads one rules file into rules, reporting every problem with its location.
///
/// Like systemd-tmpfiles' `parse_line`, it keeps going after a problem so that an author sees all
/// of them in one run; a rule with an error is left out of the result.
enum RulesParser: Sendable {
    /// The keys at the top of a rules file.
    enum TopLevelKey: String, FileKey {
        case version, defaults, rules
    }

    /// The keys of `defaults:`.
    enum DefaultsKey: String, MappingKey {
        case timezone
    }

    /// The keys of a rule.
    enum RuleKey: String, MappingKey {
        case title, kind, retain, then, stages, from, align, when, deadline, lock, review, timezone, basis, source, note,
             ambiguous
        case enforcedBy = "enforced-by"

        /// Text for people, which changes no date the rule computes: a value that is not text is
        /// reported but does not leave the rule out, so the checks against it (duplicate ids,
        /// stores bound to it) still run.
        var isDescriptive: Bool {
            switch self {
            case .title, .basis, .source, .note: true
            default: false
            }
        }
    }

    /// The keys of one stage of `stages:`.
    enum StageKey: String, MappingKey {
        case after, then
    }

    /// Parses the text of one rules file. `file` is the name used in diagnostics.
    static func parse(_ text: String, file: String) -> (rules: [Rule], diagnostics: [Diagnostic]) {
        var source = YAMLSource(file: file)
        guard var top = source.topLevel(of: text, as: TopLevelKey.self, contents: ["version", "rules"],
                                        in: "the rules file", versionRequired: true) else {
            return ([], source.diagnostics)
        }
        let calendar = readDefaults(&top, &source)
        var rules: [Rule] = []
        if let entry = top[.rules] {
            if source.expectMapping(entry.value, "'rules' must be a mapping from rule id to rule") {
                let entries = source.entries(of: entry.value)
                if entries.isEmpty { source.warning("'rules' is empty", at: entry.keyNode) }
                for rule in entries {
                    var reader = RuleReader(id: rule.key, idNode: rule.keyNode, node: rule.value, calendar: calendar)
                    if let rule = reader.read(source: &source) { rules.append(rule) }
                }
            }
        } else {
            source.error("missing 'rules:' in the rules file", at: top.node)
        }
        checkDuplicatePeriods(rules, source: &source)
        return (rules, source.diagnostics)
    }

    /// The calendar of the file's `defaults: timezone:`; UTC, with a warning, when none is written.
    static func readDefaults(_ top: inout MappingReader<TopLevelKey>, _ source: inout YAMLSource) -> RetentionCalendar {
        var calendar: RetentionCalendar?
        var zoneWritten = false
        if var defaults = top.mapping(.defaults, as: DefaultsKey.self, notAMapping: "'defaults' must be a mapping (timezone: ...)",
                                      &source) {
            defaults.checkKeys(in: "'defaults'", &source)
            zoneWritten = defaults[.timezone] != nil
            calendar = defaults.timeZone(.timezone, &source)
        }
        if !zoneWritten {
            source.warning("no 'defaults: timezone:' in this file: calendar arithmetic uses UTC; "
                           + "name the zone the policy's dates are meant in (for example Europe/Brussels)",
                           at: top[.defaults]?.keyNode ?? top.node)
        }
        return calendar ?? RetentionCalendar(identifier: "UTC")!
    }

    /// Two rules of one file with the same period from the same anchor are usually a copy and paste.
    static func checkDuplicatePeriods(_ rules: [Rule], source: inout YAMLSource) {
        struct Key: Hashable {
            var retention: Retention, anchor: Anchor?, alignment: Alignment?, condition: String?
        }
        var seen: [Key: Rule] = [:]
        for rule in rules {
            guard case .stages = rule.retention else { continue }
            let key = Key(retention: rule.retention, anchor: rule.anchor, alignment: rule.alignment,
                          condition: rule.condition?.description)
            if let first = seen[key] {
                source.diagnostics.append(.warning(
                    "rule '\(rule.id)' has the same period and anchor as rule '\(first.id)' (\(first.location)); "
                        + "merge them or tell them apart with 'when:'", at: rule.location))
            } else {
                seen[key] = rule
            }
        }
    }
}
