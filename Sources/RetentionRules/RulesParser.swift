import Foundation
import Yams

/// Reads one rules file into rules, reporting every problem with its location.
///
/// Like systemd-tmpfiles' `parse_line`, it keeps going after a problem so that an author sees all
/// of them in one run; a rule with an error is left out of the result.
public enum RulesParser: Sendable {
    /// The format version this build reads.
    public static let formatVersion = 1

    static let topLevelKeys = ["version", "defaults", "rules"]
    static let defaultsKeys = ["timezone"]
    static let ruleKeys = ["title", "kind", "retain", "then", "stages", "from", "align", "when", "deadline", "lock",
                           "review", "timezone", "basis", "source", "note", "ambiguous", "enforced-by"]
    static let stageKeys = ["after", "then"]

    /// Parses the text of one rules file. `file` is the name used in diagnostics.
    public static func parse(_ text: String, file: String) -> (rules: [Rule], diagnostics: [Diagnostic]) {
        var source = YAMLSource(file: file)
        guard let (root, top) = source.topLevel(of: text, known: topLevelKeys, contents: ["version", "rules"],
                                                in: "the rules file", versionRequired: true) else {
            return ([], source.diagnostics)
        }
        let value = { (key: String) in top.first { $0.key == key } }

        var zone: (name: String, calendar: RetentionCalendar)?
        var zoneWritten = false
        if let defaults = value("defaults") {
            if defaults.value.mapping == nil {
                source.error("'defaults' must be a mapping (timezone: ...); found \(YAMLSource.describe(defaults.value))",
                             at: defaults.value)
            } else {
                let pairs = source.pairs(of: defaults.value)
                source.checkKeys(of: pairs, known: defaultsKeys, in: "'defaults'")
                if let node = pairs.first(where: { $0.key == "timezone" })?.value {
                    zoneWritten = true
                    zone = timeZone(node, source: &source)
                }
            }
        }
        if !zoneWritten {
            source.warning("no 'defaults: timezone:' in this file: calendar arithmetic uses UTC; "
                           + "name the zone the policy's dates are meant in (for example Europe/Brussels)",
                           at: value("defaults")?.keyNode ?? root)
        }
        let fileZone = zone ?? ("UTC", RetentionCalendar(identifier: "UTC")!)

        var rules: [Rule] = []
        if let rulesNode = value("rules") {
            if rulesNode.value.mapping == nil {
                source.error("'rules' must be a mapping from rule id to rule; found \(YAMLSource.describe(rulesNode.value))",
                             at: rulesNode.value)
            } else {
                let pairs = source.pairs(of: rulesNode.value)
                if pairs.isEmpty { source.warning("'rules' is empty", at: rulesNode.keyNode) }
                for pair in pairs {
                    var reader = RuleReader(id: pair.key, idNode: pair.keyNode, node: pair.value, zone: fileZone)
                    if let rule = reader.read(source: &source) { rules.append(rule) }
                }
            }
        } else {
            source.error("missing 'rules:' in the rules file", at: root)
        }
        checkDuplicatePeriods(rules, source: &source)
        return (rules, source.diagnostics)
    }

    static func timeZone(_ node: Node, source: inout YAMLSource) -> (String, RetentionCalendar)? {
        guard let name = source.string(node, expected: "an IANA time zone such as Europe/Brussels") else { return nil }
        if let calendar = RetentionCalendar(identifier: name) { return (name, calendar) }
        let hint = Suggestion.hint(for: name, among: TimeZone.knownTimeZoneIdentifiers)
        source.error("unknown time zone '\(name)': expected an IANA zone name such as Europe/Brussels" + hint, at: node)
        return nil
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
