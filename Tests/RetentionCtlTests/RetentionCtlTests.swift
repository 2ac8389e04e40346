import Foundation
import GRDB
import Testing
import TestSupport

/// The built `retentionctl`, run as a user runs it: exit codes, output formats, located errors.
@Suite("retentionctl")
struct RetentionCtlTests {
    static let repository = Repository.root

    /// What a run of `retentionctl` printed and how it ended.
    typealias Run = ProgramRun

    /// The built `retentionctl`, or the one `RETENTIONCTL` names (to check a test against another build).
    static var binary: URL { URL(fileURLWithPath: BuiltProduct.path("retentionctl", override: "RETENTIONCTL")) }

    /// Runs `retentionctl` from the repository's top directory, as the README's examples do.
    static func run(_ arguments: [String]) throws -> Run {
        try ProgramRun.run(binary.path, arguments, in: repository)
    }

    static func temporaryRules(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("retentionctl-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let example = """
        version: 1
        defaults:
          timezone: Europe/Brussels
        rules:
          consent-withdrawals:
            retain: 3y
            from: withdrawn_at
            align: end-of-year
            then: delete
            basis: proof of consent
          tracking-data:
            from: collected_at
            basis: analytics
            deadline: 100d
            stages:
              - after: 7d
                then: anonymize
              - after: 90d
                then: delete
          no-basis:
            retain: 1y
            from: created_at
            then: delete

        """

    @Test("lint rules/ exits 0")
    func lintSeeds() throws {
        let run = try Self.run(["lint", "rules"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains(" 0 errors"))
    }

    @Test("lint of broken files exits 1 and prints FILE:LINE:COLUMN: error:")
    func lintBroken() throws {
        let run = try Self.run(["lint", "Tests/RetentionRulesTests/Fixtures/broken"])
        #expect(run.status == 1)
        #expect(run.stdout.contains("Tests/RetentionRulesTests/Fixtures/broken/01-durations.yaml:6:13: error: 'retain': '15' has no unit"))
    }

    @Test("warnings pass, and fail with --strict")
    func strict() throws {
        let file = try Self.temporaryRules(Self.example)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let plain = try Self.run(["lint", file])
        #expect(plain.status == 0)
        #expect(plain.stdout.contains("warning: rule 'no-basis' has no 'basis:'"))
        #expect(try Self.run(["lint", "--strict", file]).status == 1)
    }

    @Test("usage errors exit 2", arguments: [["lint", "--no-such-flag"], ["when", "x"], ["schedule", "--format", "xml"],
                                            ["when", "x", "--from", "yesterday"], ["frobnicate"]])
    func usage(arguments: [String]) throws {
        #expect(try Self.run(arguments).status == 2)
    }

    @Test("an unreadable path exits 1 with a message")
    func missingPath() throws {
        let run = try Self.run(["lint", "/nonexistent/rules.d"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("no such file or directory"))
    }

    @Test("when prints each stage's due instant with the rule zone's offset")
    func whenJSON() throws {
        let file = try Self.temporaryRules(Self.example)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let run = try Self.run(["when", "consent-withdrawals", "--from", "2026-05-10T15:00:00+02:00", "--rules", file, "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["rule"] as? String == "consent-withdrawals")
        #expect(object["anchor"] as? String == "2026-05-10T15:00:00+02:00")
        let stages = try #require(object["stages"] as? [[String: String]])
        #expect(stages == [["after": "3y", "action": "delete", "due": "2030-01-01T00:00:00+01:00"]])

        let text = try Self.run(["when", "tracking-data", "--from", "2026-03-28T12:00:00Z", "--rules", file])
        #expect(text.status == 0)
        #expect(text.stdout.contains("anonymize 2026-04-04T13:00:00+02:00"))
        #expect(text.stdout.contains("delete    2026-06-26T13:00:00+02:00"))
        #expect(text.stdout.contains("deadline 2026-07-06T13:00:00+02:00"))
    }

    @Test("when with an unknown rule exits 1")
    func whenUnknown() throws {
        let run = try Self.run(["when", "nope", "--from", "2026-01-01", "--rules", "rules"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("no rule 'nope'"))
    }

    @Test("CSV doubles every quote, also one a combining mark follows (one Character, still a quote to a CSV reader)")
    func csvQuotes() throws {
        let rules = try Self.temporaryRules("""
            version: 1
            defaults: {timezone: UTC}
            rules:
              accents:
                title: "O\\"\u{301}Brien, \\"quoted\\""
                kind: purpose
                retain: 30d
                from: created_at
                then: delete
                basis: test
            """)
        defer { try? FileManager.default.removeItem(atPath: rules) }
        let csv = try Self.run(["schedule", rules, "--format", "csv"])
        #expect(csv.status == 0, "\(csv.stderr)")
        #expect(csv.stdout.contains("\r\naccents,\"O\"\"\u{301}Brien, \"\"quoted\"\"\","), "\(csv.stdout)")
    }

    @Test("schedule in every format lists every rule")
    func schedule() throws {
        let json = try Self.run(["schedule", "rules", "--format", "json"])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let rules = try #require(object["rules"] as? [[String: Any]])
        #expect(rules.count > 40)
        let csv = try Self.run(["schedule", "rules", "--format", "csv"])
        #expect(csv.stdout.hasPrefix("id,title,stages,from,"))
        let table = try Self.run(["schedule", "rules"])
        let markdown = try Self.run(["schedule", "rules", "--format", "markdown"])
        for rule in rules {
            let id = try #require(rule["id"] as? String)
            #expect(csv.stdout.contains("\r\n\(id),"))
            #expect(table.stdout.contains("\n\(id) "))
            #expect(markdown.stdout.contains("| \(id) |"))
        }
    }

    @Test("a broken rules file makes schedule refuse, naming the place")
    func scheduleBroken() throws {
        let run = try Self.run(["schedule", "Tests/RetentionRulesTests/Fixtures/broken/05-syntax.yaml"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("05-syntax.yaml:8:9: error: YAML syntax"))
    }

    @Test("the example stores file checks clean against rules/, and a broken binding is located")
    func lintStores() throws {
        let run = try Self.run(["lint", "rules", "--stores", "examples/stores.yaml"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("3 stores in 1 file: 0 errors"))
        let stores = try Self.temporaryRules("""
            stores:
              crm:
                kind: sqlite
                path: /tmp/crm.sqlite
                datasets:
                  contracts: {table: contracts, key: id, rules: [kmbe-contract], fields: {contract_end: ended_at}}
            """)
        defer { try? FileManager.default.removeItem(atPath: stores) }
        let broken = try Self.run(["lint", "rules", "--stores", stores])
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("\(stores):6:7: error: dataset 'contracts' of store 'crm' names rule 'kmbe-contract'"))
        #expect(broken.stdout.contains("did you mean 'kmbe-contracts'?"))
    }

    @Test("run reports a store it cannot open with its own message and exit 1, not the argument parser's 'Error:'")
    func runStoreError() throws {
        let rules = try Self.temporaryRules("""
            version: 1
            defaults: {timezone: UTC}
            rules:
              events: {kind: purpose, retain: 30d, from: created_at, then: delete, basis: test}
            """)
        let stores = try Self.temporaryRules("""
            version: 1
            stores:
              app:
                kind: sqlite
                path: /nonexistent/missing.sqlite
                datasets:
                  t: {table: t, key: id, rules: [events], fields: {created_at: created}}
            """)
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString).sqlite").path
        defer { for path in [rules, stores, state] { try? FileManager.default.removeItem(atPath: path) } }
        let run = try Self.run(["run", "--rules", rules, "--stores", stores, "--state", state, "--init"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("retentionctl: store 'app': the SQLite file /nonexistent/missing.sqlite does not exist"), "\(run.stderr)")
        #expect(!run.stderr.contains("Error:"), "\(run.stderr)")
    }

    @Test("a mistyped --state creates nothing: every command refuses a missing state database; --init creates it 0600; an empty one says so")
    func stateIsNeverCreatedByMistake() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = directory + "/app.sqlite"
        let queue = try DatabaseQueue(path: store)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, created_at TEXT)")
            try db.execute(sql: "INSERT INTO t VALUES (1, '2001-01-01T00:00:00Z'), (2, '2999-01-01T00:00:00Z')")
        }
        let rules = directory + "/rules.yaml", stores = directory + "/stores.yaml"
        try """
            version: 1
            defaults: {timezone: UTC}
            rules:
              events: {kind: purpose, retain: 30d, from: created_at, then: delete, basis: test}
            """.write(toFile: rules, atomically: true, encoding: .utf8)
        try """
            version: 1
            stores:
              app:
                kind: sqlite
                path: \(store)
                datasets:
                  t: {table: t, key: id, rules: [events], fields: {created_at: created_at}}
            """.write(toFile: stores, atomically: true, encoding: .utf8)
        let typo = directory + "/stat.sqlite"
        let configuration = ["--rules", rules, "--stores", stores, "--state", typo]
        for arguments in [["run"] + configuration, ["plan"] + configuration, ["hold", "add", "--by", "dpo", "--reason", "case 7", "--store", "app",
                          "--dataset", "t", "--key", "1"] + configuration, ["jobs", "--state", typo], ["hold", "list", "--state", typo],
                          ["audit", "verify", "--state", typo], ["clock", "accept", "--state", typo, "--by", "dpo"]] {
            let run = try Self.run(arguments)
            #expect(run.status == 1, "\(arguments): \(run.stdout)")
            #expect(run.stderr.contains("\(typo): no state database here"), "\(arguments): \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: typo), "\(arguments) created the state database")
        }
        // Nothing was deleted by the refused run.
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM t") } == 2)

        let directoryAsState = try Self.run(["jobs", "--state", directory])
        #expect(directoryAsState.status == 1)
        #expect(directoryAsState.stderr.contains("expected a state database file"), "\(directoryAsState.stderr)")

        let state = directory + "/state.sqlite"
        let hold = try Self.run(["hold", "add", "--by", "dpo", "--reason", "case 7", "--store", "app", "--dataset", "t", "--key", "1",
                                 "--rules", rules, "--stores", stores, "--state", state, "--init"])
        #expect(hold.status == 0, "\(hold.stderr)")
        #expect(hold.stderr.contains("created a new state database at \(state)"), "\(hold.stderr)")
        let mode = try FileManager.default.attributesOfItem(atPath: state)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let run = try Self.run(["run", "--rules", rules, "--stores", stores, "--state", state, "--max-delete-share", "100"])
        #expect(run.status == 0, "\(run.stderr)")
        // The hold placed before the first pass held: record 1 is still there.
        #expect(try queue.read { try Int64.fetchAll($0, sql: "SELECT id FROM t ORDER BY id") } == [1, 2])

        let empty = directory + "/empty.sqlite"
        #expect(try Self.run(["plan", "--rules", rules, "--stores", stores, "--state", empty, "--init"]).status == 0)
        let jobs = try Self.run(["jobs", "--state", empty])
        #expect(jobs.status == 0)
        #expect(jobs.stderr.contains("has no history"), "\(jobs.stderr)")
        #expect(!(try Self.run(["jobs", "--state", state])).stderr.contains("has no history"))
    }

    @Test("clock accept records the operator's word as a pass, and says so")
    func clockAccept() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        _ = try DatabaseQueue(path: state)
        let run = try Self.run(["clock", "accept", "--state", state, "--by", "dpo"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("clock accepted at "), "\(run.stdout)")
    }
}
