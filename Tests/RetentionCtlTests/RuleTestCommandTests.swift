import Foundation
import Testing
import TestSupport

/// `retentionctl test` (rule tests) and what `lint` says of kinds and bindings, run as a rule author
/// runs them.
@Suite("retentionctl test and kinds")
struct RuleTestCommandTests {
    typealias CLI = RetentionCtlTests

    /// A directory holding `files` (name → text), removed afterwards by the caller.
    static func directory(_ files: [String: String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("retentionctl-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8) }
        return path
    }

    static let rules = """
        version: 1
        defaults: {timezone: Europe/Brussels}
        rules:
          tax:
            kind: obligation
            retain: 7y
            from: fiscal_year_closed_at
            align: end-of-year
            then: delete
            basis: tax law
          erasure:
            kind: erasure
            retain: 0d
            from: erasure_upheld_at
            deadline: 30d
            then: delete
            basis: Art. 17(1) GDPR
        """

    static let tests = """
        version: 1
        rules: [rules.yaml]
        tests:
          invoices:
            rules: [tax, erasure]
            records:
              erased:
                fiscal_year_closed_at: 2024-12-31T12:00:00+01:00
                erasure_upheld_at: 2026-10-01T10:00:00+02:00
            expect:
              - at: 2026-11-29T12:00:00+01:00
                record: erased
                outcome: deferred
                rule: erasure
                by: tax
                until: 2032-01-01T00:00:00+01:00
              - at: 2026-11-29T12:00:00+01:00
                record: erased
                outcome: restricted
              - at: 2032-01-01T00:00:00+01:00
                record: erased
                outcome: deleted
                rule: erasure
        """

    @Test("every seed's scenario tests pass")
    func seeds() throws {
        let run = try CLI.run(["test", "rules/tests"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("5 test files:") && run.stdout.contains(" 0 failed"), "\(run.stdout)")
        let passed = run.stdout.split(separator: " ").firstIndex(of: "passed,").map { run.stdout.split(separator: " ")[$0 - 1] }
        #expect((passed.flatMap { Int($0) } ?? 0) >= 250, "\(run.stdout)")
    }

    @Test("a passing file exits 0; a broken expectation fails at its line with what was expected and what happened")
    func brokenExpectation() throws {
        let good = try Self.directory(["rules.yaml": Self.rules, "invoices.yaml": Self.tests])
        defer { try? FileManager.default.removeItem(atPath: good) }
        let passing = try CLI.run(["test", good + "/invoices.yaml"])
        #expect(passing.status == 0, "\(passing.stdout)")
        #expect(passing.stdout.contains("1 test file: 3 passed, 0 failed"), "\(passing.stdout)")

        let broken = try Self.directory(["rules.yaml": Self.rules,
                                         "invoices.yaml": Self.tests.replacingOccurrences(of: "until: 2032-01-01T00:00:00+01:00", with: "until: 2031-01-01T00:00:00+01:00")
                                            .replacingOccurrences(of: "outcome: deleted", with: "outcome: kept")])
        defer { try? FileManager.default.removeItem(atPath: broken) }
        let failing = try CLI.run(["test", broken + "/invoices.yaml"])
        #expect(failing.status == 1)
        let lines = failing.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("\(broken)/invoices.yaml:13:18: error: erased at 2026-11-29T11:00:00Z: expected deferred under rule erasure by rule tax "
                               + "until 2030-12-31T23:00:00Z; found erasure under rule erasure deferred by rule tax until 2031-12-31T23:00:00Z; "
                               + "restricted under rule erasure"), "\(failing.stdout)")
        #expect(lines.contains("\(broken)/invoices.yaml:22:18: error: erased at 2031-12-31T23:00:00Z: expected kept by rule erasure; "
                               + "found deleted under rule erasure"), "\(failing.stdout)")
        #expect(failing.stdout.contains("1 passed, 2 failed"))
    }

    @Test("an unknown rule, field, record or outcome is a located error and runs nothing")
    func badTestFiles() throws {
        let bad = Self.tests
            .replacingOccurrences(of: "rules: [tax, erasure]", with: "rules: [tax, erasur]")
            .replacingOccurrences(of: "erasure_upheld_at: 2026", with: "erasure_uphold_at: 2026")
            .replacingOccurrences(of: "outcome: restricted", with: "outcome: blocked")
        let directory = try Self.directory(["rules.yaml": Self.rules, "invoices.yaml": bad])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try CLI.run(["test", directory + "/invoices.yaml"])
        #expect(run.status == 1)
        #expect(run.stdout.contains("invoices.yaml:19:18: error: 'outcome' must be one of kept, deleted, violation, deferred, restricted, anonymized; found 'blocked'"),
                "\(run.stdout)")
        // The file with a syntax-level error runs nothing; fixed, the unknown rule and field are found.
        let fixed = bad.replacingOccurrences(of: "outcome: blocked", with: "outcome: restricted")
        try fixed.write(toFile: directory + "/invoices.yaml", atomically: true, encoding: .utf8)
        let second = try CLI.run(["test", directory + "/invoices.yaml"])
        #expect(second.status == 1)
        #expect(second.stdout.contains("invoices.yaml:5:18: error: test 'invoices' binds rule 'erasur', which the rules files do not define; did you mean 'erasure'?"),
                "\(second.stdout)")
        try fixed.replacingOccurrences(of: "[tax, erasur]", with: "[tax, erasure]").write(toFile: directory + "/invoices.yaml", atomically: true, encoding: .utf8)
        let third = try CLI.run(["test", directory + "/invoices.yaml"])
        #expect(third.stdout.contains("invoices.yaml:7:7: error: record 'erased' has field 'erasure_uphold_at', which no bound rule reads; did you mean 'erasure_upheld_at'?"),
                "\(third.stdout)")
        #expect(third.stdout.contains("0 passed, 0 failed"), "\(third.stdout)")
        #expect(try CLI.run(["test", directory + "/missing.yaml"]).status == 2)
    }

    @Test("lint: kinds that cannot be, and bindings that cannot work, located with a hint")
    func lintKindsAndBindings() throws {
        let rules = """
            version: 1
            defaults: {timezone: UTC}
            rules:
              keep-forever:
                retain: forever
                basis: archive
              statutory:
                kind: obligation
                retain: 7y
                from: closed_at
                then: delete
                basis: tax law
              contract:
                retain: 1y
                from: closed_at
                then: delete
                basis: contract
              until-done:
                kind: purpose
                retain: 0d
                from: purpose_done_at
                then: delete
                basis: purpose
              erased:
                kind: erasure
                retain: 0d
                from: erased_at
                then: delete
                basis: Art. 17
              no-event:
                kind: erasure
                retain: forever
                basis: x
            """
        let stores = """
            version: 1
            stores:
              crm:
                kind: sqlite
                path: crm.sqlite
                datasets:
                  customers:
                    table: customers
                    key: id
                    rules: [contract, until-done, erased, statutory]
                    fields: {closed_at: closed_at, purpose_done_at: done_at, erased_at: erased_at}
            """
        let directory = try Self.directory(["rules.yaml": rules, "stores.yaml": stores])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try CLI.run(["lint", directory + "/rules.yaml", "--stores", directory + "/stores.yaml"])
        #expect(run.status == 1)
        let out = run.stdout
        #expect(out.contains("rules.yaml:5:13: error: rule 'keep-forever' keeps data forever: say which kind of reason it is"), "\(out)")
        #expect(out.contains("rules.yaml:31:11: error: an erasure rule deletes when an event happens; 'retain: forever' deletes nothing"), "\(out)")
        let at = "\(directory)/stores.yaml:10:9: warning: dataset 'customers' of store 'crm'"
        #expect(out.contains("\(at): rule 'contract' says no 'kind:'; assumed purpose."), "\(out)")
        #expect(out.contains("\(at): every erasure under rule 'erased' is deferred until obligation 'statutory' ends"), "\(out)")
        #expect(out.contains("\(at): rule 'until-done' applies to every record and keeps each one whose purpose_done_at is null"), "\(out)")
    }
}
