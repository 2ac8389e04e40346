import Foundation
import RetentionRules
import Testing

/// Every broken file in `Fixtures/broken` gets exactly the located diagnostics in
/// `Fixtures/broken.expected`: the file, line and column of the offending key or value.
@Suite("Diagnostics")
struct DiagnosticsGoldenTests {
    @Test("a directory of broken files gives the expected located diagnostics")
    func golden() throws {
        let load = try RuleSet.load(paths: [Fixtures.path("broken")])
        let prefix = Fixtures.directory.path + "/"
        let actual = load.diagnostics.sorted { $0.location < $1.location }
            .map { $0.description.replacingOccurrences(of: prefix, with: "") }
        let expected = try String(contentsOfFile: Fixtures.path("broken.expected"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        for (index, line) in expected.enumerated() {
            #expect(index < actual.count && actual[index] == line, "expected line \(index + 1): \(line)")
        }
        #expect(actual.count == expected.count, "got:\n\(actual.joined(separator: "\n"))")
    }

    @Test("every broken fixture file is reported at least once")
    func everyFileReported() throws {
        let files = try ConfigurationFiles.yamlFiles(in: Fixtures.path("broken"))
        let load = try RuleSet.load(paths: [Fixtures.path("broken")])
        let reported = Set(load.diagnostics.map(\.location.file))
        for file in files where !file.hasSuffix("06-duplicate-a.yaml") {
            #expect(reported.contains(file), "\(file) has no diagnostic")
        }
    }

    @Test("a rule with an error is left out; the good rules of the same file are kept")
    func goodRulesSurvive() throws {
        let load = try RuleSet.load(paths: [Fixtures.path("broken")])
        #expect(load.ruleSet["invoices"] != nil)
        #expect(load.ruleSet["contracts"]?.location.file.hasSuffix("06-duplicate-a.yaml") == true)
        #expect(load.ruleSet["bare-number"] == nil)
        #expect(load.ruleSet["copy-a"] != nil, "warnings do not drop a rule")
    }

    @Test("diagnostics print as FILE:LINE:COLUMN: severity: message")
    func format() {
        let diagnostic = Diagnostic.error("bad", at: RetentionRules.SourceLocation(file: "r.yaml", line: 3, column: 7))
        #expect(diagnostic.description == "r.yaml:3:7: error: bad")
    }

    @Test("a missing path is a read error, not a diagnostic")
    func missingPath() {
        #expect(throws: ConfigurationReadError.self) { try RuleSet.load(paths: ["/nonexistent/rules.d"]) }
    }
}
