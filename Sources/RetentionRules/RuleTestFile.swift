public import Foundation

/// A rule test file (`retentionctl test`, docs/rule-tests.md): rules files, dataset bindings,
/// records, and what must happen to each record at given instants.
public struct RuleTestFile: Sendable {
    /// The file as the user named it.
    public var file: String
    /// The rules files and directories, resolved against the test file's directory.
    public var rulePaths: [String]
    public var tests: [RuleTest]
}

/// One dataset binding of a test file, with its records and expectations.
public struct RuleTest: Sendable {
    public var name: String
    public var location: SourceLocation
    /// The bound rule ids, in order, each where it is written.
    public var rules: [(id: String, location: SourceLocation)]
    /// Logical field → record field; unlisted fields are read by their own name.
    public var fields: [String: String]
    public var restrictField: String
    public var anonymizedField: String
    public var records: [RuleTestRecord]
    public var expectations: [RuleTestExpectation]
}

/// A record of a test: its fields' values (a field not listed is null).
public struct RuleTestRecord: Sendable {
    public var name: String
    public var values: [String: RuleTestValue]
    public var location: SourceLocation
}

/// A value in a test record.
public enum RuleTestValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case instant(Date)
}

/// What must happen to one record in a pass at one instant.
public struct RuleTestExpectation: Sendable {
    public enum Outcome: String, Sendable, CaseIterable {
        case kept, deleted, violation, deferred, restricted, anonymized
    }

    /// When a deferral or a rule's keeping ends.
    public enum Until: Sendable, Hashable {
        case never
        case instant(Date)
    }

    public var at: Date
    public var record: String
    public var outcome: Outcome
    public var rule: String?
    public var by: String?
    public var until: Until?
    /// Where the expectation's `outcome:` is written: failures are reported there.
    public var location: SourceLocation
    /// Where `rule:`, `by:` and `record:` are written, for unknown names.
    public var ruleLocation: SourceLocation?
    public var byLocation: SourceLocation?
    public var recordLocation: SourceLocation
}

extension RuleTest {
    /// The logical fields the bound rules read (anchors and conditions), in order.
    public func logicalFields(in rules: RuleSet) -> [String] {
        var fields: [String] = []
        for id in self.rules.map(\.id) {
            guard let rule = rules[id] else { continue }
            for field in (rule.anchor?.fields ?? []) + (rule.condition?.fields.map(\.name) ?? []) where !fields.contains(field) {
                fields.append(field)
            }
        }
        return fields
    }

    /// The binding as a dataset of an in-memory store: each logical field read from the record
    /// field `fields:` names, or the field of the same name; restriction and anonymization marked
    /// by their fields.
    public func dataset(in rules: RuleSet) -> (store: Store, dataset: Dataset) {
        var map: [String: String] = [:]
        for field in logicalFields(in: rules) { map[field] = fields[field] ?? field }
        let dataset = Dataset(id: name, table: nil, key: "name", match: nil, rules: self.rules.map(\.id), fields: map, anonymize: [:],
                              restrictColumn: restrictField, anonymizedColumn: anonymizedField, limits: DatasetLimits(),
                              removeEmptyDirectories: false, location: location)
        let store = Store(id: "test", kind: .sqlite, path: nil, dsn: nil, exec: nil, timeoutSeconds: nil, datasets: [dataset],
                          location: location)
        return (store, dataset)
    }
}
