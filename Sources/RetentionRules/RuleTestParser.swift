import Foundation
import Yams

/// Reads a rule test file, reporting every problem with its location, as the rules parser does.
public enum RuleTestParser: Sendable {
    static let topLevelKeys = ["version", "rules", "tests"]
    static let testKeys = ["rules", "fields", "restrict", "anonymized-at", "records", "expect"]
    static let expectationKeys = ["at", "record", "outcome", "rule", "by", "until"]

    /// Parses one test file's text. `file` is the name used in diagnostics and to resolve `rules:`.
    public static func parse(_ text: String, file: String) -> (file: RuleTestFile?, diagnostics: [Diagnostic]) {
        var source = YAMLSource(file: file)
        guard let (root, top) = source.topLevel(of: text, known: topLevelKeys, contents: ["version", "rules", "tests"],
                                                in: "the test file", versionRequired: true) else {
            return (nil, source.diagnostics)
        }
        let value = { (key: String) in top.first { $0.key == key } }
        let directory = (file as NSString).deletingLastPathComponent
        var paths: [String] = []
        if let rules = value("rules") {
            for node in rules.value.sequence.map(Array.init) ?? [rules.value] {
                guard let path = source.string(node, expected: "a rules file or directory") else { continue }
                paths.append(path.hasPrefix("/") || directory.isEmpty ? path : directory + "/" + path)
            }
        } else {
            source.error("missing 'rules:': name the rules files the tests use", at: root)
        }
        var tests: [RuleTest] = []
        if let node = value("tests") {
            if node.value.mapping == nil {
                source.error("'tests' must be a mapping from a test name to a binding; found \(YAMLSource.describe(node.value))", at: node.value)
            }
            for pair in source.pairs(of: node.value) {
                if let test = readTest(pair.key, keyNode: pair.keyNode, node: pair.value, &source) { tests.append(test) }
            }
        } else {
            source.error("missing 'tests:'", at: root)
        }
        return (RuleTestFile(file: file, rulePaths: paths, tests: tests), source.diagnostics)
    }

    static func readTest(_ name: String, keyNode: Node, node: Node, _ source: inout YAMLSource) -> RuleTest? {
        guard node.mapping != nil else {
            source.error("test '\(name)' must be a mapping (rules, fields, records, expect); found \(YAMLSource.describe(node))", at: node)
            return nil
        }
        let pairs = source.pairs(of: node)
        source.checkKeys(of: pairs, known: testKeys, in: "test '\(name)'")
        let value = { (key: String) in pairs.first { $0.key == key } }
        var test = RuleTest(name: name, location: source.location(of: keyNode), rules: [], fields: [:],
                            restrictField: "restricted_at", anonymizedField: "anonymized_at", records: [], expectations: [])
        if let rules = value("rules") {
            for item in rules.value.sequence.map(Array.init) ?? [rules.value] {
                if let id = source.string(item, expected: "a rule id") { test.rules.append((id, source.location(of: item))) }
            }
        } else {
            source.error("test '\(name)' binds no rules: add 'rules: [RULE, ...]'", at: keyNode)
        }
        for pair in value("fields").map({ source.pairs(of: $0.value) }) ?? [] {
            if let column = source.string(pair.value, expected: "a record field name") { test.fields[pair.key] = column }
        }
        if let pair = value("restrict"), let field = source.string(pair.value, expected: "a record field name") { test.restrictField = field }
        if let pair = value("anonymized-at"), let field = source.string(pair.value, expected: "a record field name") { test.anonymizedField = field }
        for pair in value("records").map({ source.pairs(of: $0.value) }) ?? [] {
            var record = RuleTestRecord(name: pair.key, values: [:], location: source.location(of: pair.keyNode))
            if pair.value.mapping == nil, !(pair.value.scalar?.isNull ?? false) {
                source.error("record '\(pair.key)' must be a mapping of field: value; found \(YAMLSource.describe(pair.value))", at: pair.value)
            }
            for field in source.pairs(of: pair.value) { record.values[field.key] = readValue(field.value, &source) }
            test.records.append(record)
        }
        if let expect = value("expect") {
            guard let items = expect.value.sequence else {
                source.error("'expect' must be a list of {at, record, outcome, ...}; found \(YAMLSource.describe(expect.value))", at: expect.value)
                return test
            }
            for item in items {
                if let expectation = readExpectation(item, &source) { test.expectations.append(expectation) }
            }
        }
        return test
    }

    static func readValue(_ node: Node, _ source: inout YAMLSource) -> RuleTestValue {
        guard let scalar = node.scalar else {
            source.error("a record's value must be null, a number or text; found \(YAMLSource.describe(node))", at: node)
            return .null
        }
        if scalar.isNull { return .null }
        let text = scalar.string
        if scalar.style == .plain || scalar.style == .any {
            if let integer = Int64(text) { return .integer(integer) }
            if text.contains("."), !text.contains("-"), let real = Double(text) { return .real(real) }
        }
        if let instant = instant(text) { return .instant(instant) }
        return .text(text)
    }

    /// An ISO 8601 instant; without an offset, in UTC.
    static func instant(_ text: String) -> Date? {
        guard text.count >= 10, text.first?.isNumber == true, let timestamp = try? Timestamp.parse(text) else { return nil }
        return timestamp.instant(in: RetentionCalendar(timeZone: TimeZone(identifier: "UTC")!))
    }

    static func readExpectation(_ node: Node, _ source: inout YAMLSource) -> RuleTestExpectation? {
        guard node.mapping != nil else {
            source.error("an expectation must be a mapping {at, record, outcome, ...}; found \(YAMLSource.describe(node))", at: node)
            return nil
        }
        let pairs = source.pairs(of: node)
        source.checkKeys(of: pairs, known: expectationKeys, in: "an expectation")
        let value = { (key: String) in pairs.first { $0.key == key } }
        let errors = source.diagnostics.errors.count
        for key in ["at", "record", "outcome"] where value(key) == nil {
            source.error("this expectation has no '\(key):'", at: node)
        }
        var at: Date?
        if let pair = value("at"), let text = source.string(pair.value, expected: "an instant such as 2026-09-01T10:00:00+02:00") {
            at = instant(text)
            if at == nil { source.error("'at': '\(text)' is not an ISO 8601 instant (2026-09-01T10:00:00+02:00)", at: pair.value) }
        }
        let record = value("record").flatMap { source.string($0.value, expected: "a record's name") }
        let outcome = value("outcome").flatMap { source.choice($0.value, key: "outcome", as: RuleTestExpectation.Outcome.self) }
        var until: RuleTestExpectation.Until?
        if let pair = value("until"), let text = source.string(pair.value, expected: "an instant or never") {
            if text == "never" { until = .never } else if let date = instant(text) { until = .instant(date) } else {
                source.error("'until': '\(text)' is neither 'never' nor an ISO 8601 instant", at: pair.value)
            }
        }
        if let outcome, value("by") != nil, outcome != .deferred {
            source.error("'by' names the obligation that defers an erasure: it goes with 'outcome: deferred' only", at: value("by")!.keyNode)
        }
        if let outcome, value("until") != nil, outcome != .deferred, outcome != .kept {
            source.error("'until' goes with 'outcome: kept' or 'deferred' only", at: value("until")!.keyNode)
        }
        guard source.diagnostics.errors.count == errors, let at, let record, let outcome else { return nil }
        return RuleTestExpectation(at: at, record: record, outcome: outcome,
                                   rule: value("rule").flatMap { source.string($0.value, expected: "a rule id") },
                                   by: value("by").flatMap { source.string($0.value, expected: "a rule id") }, until: until,
                                   location: source.location(of: value("outcome")!.value),
                                   ruleLocation: value("rule").map { source.location(of: $0.value) },
                                   byLocation: value("by").map { source.location(of: $0.value) },
                                   recordLocation: source.location(of: value("record")!.value))
    }
}
