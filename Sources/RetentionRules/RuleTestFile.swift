package import Foundation

/// A rule test file (`retentionctl test`, docs/rule-tests.md): rules files, dataset bindings,
/// records, and what must happen to each record at given instants.
package struct RuleTestFile: Sendable {
    /// The file as the user named it.
    package var file: String
    /// The rules files and directories, resolved against the test file's directory.
    package var rulePaths: [String]
    package var tests: [RuleTest]
}

/// One dataset binding of a test file, with its records and expectations.
package struct RuleTest: Sendable {
    package var name: String
    package var location: SourceLocation
    /// The bound rule ids, in order, each where it is written.
    package var rules: [(id: String, location: SourceLocation)]
    /// Logical field → record field; unlisted fields are read by their own name.
    package var fields: [String: String]
    package var restrictField: String
    package var anonymizedField: String
    package var records: [RuleTestRecord]
    package var expectations: [RuleTestExpectation]
}

/// A record of a test: its fields' values (a field not listed is null).
package struct RuleTestRecord: Sendable {
    package var name: String
    package var values: [String: RuleTestValue]
    package var location: SourceLocation
}

/// A value in a test record.
package enum RuleTestValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case instant(Date)
}

/// What must happen to one record in a pass at one instant.
package struct RuleTestExpectation: Sendable {
    package enum Outcome: String, Sendable, CaseIterable {
        case kept, deleted, violation, deferred, restricted, anonymized
    }

    /// When a deferral or a rule's keeping ends.
    package enum Until: Sendable, Hashable {
        case never
        case instant(Date)
    }

    package var at: Date
    package var record: String
    package var outcome: Outcome
    package var rule: String?
    package var by: String?
    package var until: Until?
    /// Where the expectation's `outcome:` is written: failures are reported there.
    package var location: SourceLocation
    /// Where `rule:`, `by:` and `record:` are written, for unknown names.
    package var ruleLocation: SourceLocation?
    package var byLocation: SourceLocation?
    package var recordLocation: SourceLocation
}

extension RuleTest {
    /// The logical fields the bound rules read (anchors and conditions), in order.
    package func logicalFields(in rules: RuleSet) -> [String] {
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
    package func dataset(in rules: RuleSet) -> (store: Store, dataset: Dataset) {
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
