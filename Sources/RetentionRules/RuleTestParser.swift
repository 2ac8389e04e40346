import Foundation
import Yams

/// Reads a rule test file, reporting every problem with its location, as the rules parser does.
package enum RuleTestParser: Sendable {
    /// The keys at the top of a test file.
    enum TopLevelKey: String, FileKey {
        case version, rules, tests
    }

    /// The keys of one test, a dataset binding.
    enum TestKey: String, MappingKey {
        case rules, fields, restrict
        case anonymizedAt = "anonymized-at"
        case records, expect
    }

    /// The keys of one expectation.
    enum ExpectationKey: String, MappingKey {
        case at, record, outcome, rule, by, until
    }

    /// Parses one test file's text. `file` is the name used in diagnostics and to resolve `rules:`.
    package static func parse(_ text: String, file: String) -> (file: RuleTestFile?, diagnostics: [Diagnostic]) {
        var source = YAMLSource(file: file)
        guard var top = source.topLevel(of: text, as: TopLevelKey.self, contents: ["version", "rules", "tests"],
                                        in: "the test file", versionRequired: true) else {
            return (nil, source.diagnostics)
        }
        let directory = (file as NSString).deletingLastPathComponent
        var paths: [String] = []
        if let rules = top.strings(.rules, expected: "a rules file or directory", &source) {
            paths = rules.map { $0.text.hasPrefix("/") || directory.isEmpty ? $0.text : directory + "/" + $0.text }
        } else {
            source.error("missing 'rules:': name the rules files the tests use", at: top.node)
        }
        var tests: [RuleTest] = []
        if let entry = top[.tests] {
            _ = source.expectMapping(entry.value, "'tests' must be a mapping from a test name to a binding")
            for test in source.entries(of: entry.value) {
                if let test = readTest(test, &source) { tests.append(test) }
            }
        } else {
            source.error("missing 'tests:'", at: top.node)
        }
        return (RuleTestFile(file: file, rulePaths: paths, tests: tests), source.diagnostics)
    }

    static func readTest(_ entry: MappingEntry, _ source: inout YAMLSource) -> RuleTest? {
        let name = entry.key
        guard var binding = MappingReader<TestKey>(
            entry.value, notAMapping: "test '\(name)' must be a mapping (rules, fields, records, expect)", &source) else {
            return nil
        }
        binding.checkKeys(in: "test '\(name)'", &source)
        var test = RuleTest(name: name, location: source.location(of: entry.keyNode), rules: [], fields: [:],
                            restrictField: "restricted_at", anonymizedField: "anonymized_at", records: [], expectations: [])
        if let rules = binding.strings(.rules, expected: "a rule id", &source) {
            test.rules = rules.map { ($0.text, source.location(of: $0.node)) }
        } else {
            source.error("test '\(name)' binds no rules: add 'rules: [RULE, ...]'", at: entry.keyNode)
        }
        for field in binding.entries(.fields, &source) ?? [] {
            if let column = source.string(field.value, expected: "a record field name") { test.fields[field.key] = column }
        }
        if let field = binding.string(.restrict, expected: "a record field name", &source) { test.restrictField = field }
        if let field = binding.string(.anonymizedAt, expected: "a record field name", &source) { test.anonymizedField = field }
        for record in binding.entries(.records, &source) ?? [] {
            test.records.append(readRecord(record, &source))
        }
        if let expect = binding[.expect] {
            guard let items = expect.value.sequence else {
                source.error("'expect' must be a list of {at, record, outcome, ...}; found \(YAMLSource.describe(expect.value))",
                             at: expect.value)
                return test
            }
            for item in items {
                if let expectation = readExpectation(item, &source) { test.expectations.append(expectation) }
            }
        }
        return test
    }

    static func readRecord(_ entry: MappingEntry, _ source: inout YAMLSource) -> RuleTestRecord {
        var record = RuleTestRecord(name: entry.key, values: [:], location: source.location(of: entry.keyNode))
        if entry.value.mapping == nil, !(entry.value.scalar?.isNull ?? false) {
            source.error("record '\(entry.key)' must be a mapping of field: value; found \(YAMLSource.describe(entry.value))",
                         at: entry.value)
        }
        for field in source.entries(of: entry.value) { record.values[field.key] = readValue(field.value, &source) }
        return record
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
        guard var expectation = MappingReader<ExpectationKey>(
            node, notAMapping: "an expectation must be a mapping {at, record, outcome, ...}", &source) else { return nil }
        expectation.checkKeys(in: "an expectation", &source)
        let errors = source.errorCount
        for key in [ExpectationKey.at, .record, .outcome] where expectation[key] == nil {
            source.error("this expectation has no '\(key.rawValue):'", at: node)
        }
        let at = expectation.value(.at, expected: "an instant such as 2026-09-01T10:00:00+02:00", as: instant,
                                   otherwise: { "'at': '\($0)' is not an ISO 8601 instant (2026-09-01T10:00:00+02:00)" }, &source)
        let record = expectation.string(.record, expected: "a record's name", &source)
        let outcome = expectation.choice(.outcome, as: RuleTestExpectation.Outcome.self, &source)
        let until = expectation.value(.until, expected: "an instant or never", as: parseUntil,
                                      otherwise: { "'until': '\($0)' is neither 'never' nor an ISO 8601 instant" }, &source)
        if let outcome, let by = expectation[.by], outcome != .deferred {
            source.error("'by' names the obligation that defers an erasure: it goes with 'outcome: deferred' only", at: by.keyNode)
        }
        if let outcome, let until = expectation[.until], outcome != .deferred, outcome != .kept {
            source.error("'until' goes with 'outcome: kept' or 'deferred' only", at: until.keyNode)
        }
        guard source.errorCount == errors, let at, let record, let outcome,
              let recordNode = expectation[.record]?.value, let outcomeNode = expectation[.outcome]?.value else { return nil }
        // Problems in the names are reported, but leave the expectation in.
        let rule = expectation.string(.rule, expected: "a rule id", &source)
        let by = expectation.string(.by, expected: "a rule id", &source)
        return RuleTestExpectation(at: at, record: record, outcome: outcome, rule: rule, by: by, until: until,
                                   location: source.location(of: outcomeNode),
                                   ruleLocation: expectation[.rule].map { source.location(of: $0.value) },
                                   byLocation: expectation[.by].map { source.location(of: $0.value) },
                                   recordLocation: source.location(of: recordNode))
    }

    /// `never`, or an ISO 8601 instant.
    static func parseUntil(_ text: String) -> RuleTestExpectation.Until? {
        text == "never" ? .never : instant(text).map { .instant($0) }
    }
}
