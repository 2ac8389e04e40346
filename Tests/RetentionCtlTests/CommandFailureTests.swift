import Foundation
import GRDB
import Testing
import TestSupport

/// Every error a command meets is told in the command's own words (`retentionctl: …`) with the
/// documented exit status (1 for a failure, 2 for a command line), never through the argument
/// parser's generic "Error:" and usage; option values are read, and refused, as they are parsed.
@Suite("retentionctl failures and option values")
struct CommandFailureTests {
    /// A rules file, a stores file with an SQLite store `app` (one old row) or any other stores
    /// text, and a state database made with `--init`.
    struct Setup {
        let directory: String
        var rules: String { directory + "/rules.yaml" }
        var stores: String { directory + "/stores.yaml" }
        var state: String { directory + "/state.sqlite" }
        var configuration: [String] { ["--rules", rules, "--stores", stores, "--state", state] }

        init(stores text: String? = nil) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-failure-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try """
                version: 1
                defaults: {timezone: UTC}
                rules:
                  events: {kind: purpose, retain: 30d, from: created_at, then: delete, basis: test}
                """.write(toFile: rules, atomically: true, encoding: .utf8)
            let store = directory + "/app.sqlite"
            try DatabaseQueue(path: store).write { db in
                try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, created_at TEXT)")
                try db.execute(sql: "INSERT INTO t VALUES (1, '2001-01-01T00:00:00Z')")
            }
            try (text ?? """
                version: 1
                stores:
                  app:
                    kind: sqlite
                    path: \(store)
                    datasets:
                      t: {table: t, key: id, rules: [events], fields: {created_at: created_at}}
                """).write(toFile: stores, atomically: true, encoding: .utf8)
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// The command's own failure: status 1, its message, and nothing of the argument parser's.
    static func expectFailure(_ run: RetentionCtlTests.Run, saying message: String, _ arguments: [String]) {
        #expect(run.status == 1, "\(arguments): \(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("retentionctl: ") && run.stderr.contains(message), "\(arguments): \(run.stderr)")
        #expect(!run.stderr.contains("Error:") && !run.stderr.contains("Usage:"), "\(arguments): \(run.stderr)")
    }

    @Test("a state database that fails (tables gone): run, plan, jobs, holds, audit and clock each fail with their own message and exit 1")
    func brokenState() throws {
        let setup = try Setup()
        defer { setup.remove() }
        #expect(try RetentionCtlTests.run(["plan", "--init"] + setup.configuration).status == 0)
        try DatabaseQueue(path: setup.state).write { db in
            for table in ["pass", "hold", "job", "audit"] { try db.execute(sql: "DROP TABLE \(table)") }
        }
        let state = ["--state", setup.state]
        for arguments in [["run"] + setup.configuration, ["plan"] + setup.configuration, ["jobs"] + state, ["hold", "list"] + state,
                          ["hold", "add", "--store", "app", "--reason", "case 7", "--by", "dpo"] + setup.configuration,
                          ["hold", "release", "1", "--by", "dpo"] + state, ["audit", "export"] + state, ["audit", "head"] + state,
                          ["audit", "verify"] + state, ["clock", "accept", "--by", "dpo"] + state] {
            Self.expectFailure(try RetentionCtlTests.run(arguments), saying: "no such table", arguments)
        }
    }

    @Test("run on a state database another process holds locked fails with its own message and exit 1 (after SQLite's 30 s wait)")
    func lockedState() throws {
        let setup = try Setup()
        defer { setup.remove() }
        #expect(try RetentionCtlTests.run(["plan", "--init"] + setup.configuration).status == 0)
        let arguments = ["run"] + setup.configuration
        // Another writer holds the database while the command runs.
        let run = try DatabaseQueue(path: setup.state).inDatabase { db in
            try db.execute(sql: "BEGIN EXCLUSIVE")
            defer { try? db.execute(sql: "ROLLBACK") }
            return try RetentionCtlTests.run(arguments)
        }
        Self.expectFailure(run, saying: "database is locked", arguments)
    }

    @Test("run and plan against a store that cannot be reached fail with their own message and exit 1")
    func unreachableStore() throws {
        let setup = try Setup(stores: """
            version: 1
            stores:
              db:
                kind: postgres
                dsn: postgresql://app@127.0.0.1:1/shop?sslmode=disable
                datasets:
                  events: {table: events, key: id, rules: [events], fields: {created_at: created_at}}
            """)
        defer { setup.remove() }
        for command in ["run", "plan"] {
            let arguments = [command, "--init"] + setup.configuration
            Self.expectFailure(try RetentionCtlTests.run(arguments), saying: "store 'db': cannot connect to postgresql://app@127.0.0.1:1/shop", arguments)
        }
    }

    @Test("run, plan and explain read rules and stores as the daemon does: every error located, then their own message, exit 1, nothing touched")
    func invalidConfiguration() throws {
        let setup = try Setup(stores: """
            version: 1
            stores:
              app:
                kind: sqlite
                path: /nonexistent/app.sqlite
                datasets:
                  t: {table: t, key: id, rules: [event], fields: {created_at: created_at}}
            """)
        defer { setup.remove() }
        for command in [["run"], ["plan"], ["explain", "app", "t", "1"]] {
            let arguments = command + ["--init"] + setup.configuration
            let run = try RetentionCtlTests.run(arguments)
            Self.expectFailure(run, saying: "the rules and stores files have 1 error; fix them first", arguments)
            #expect(run.stderr.contains(setup.stores + ":7:") && run.stderr.contains("'event'"), "\(arguments): \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: setup.state), "\(arguments): no state database made for a configuration that cannot run")
        }
    }

    @Test("help is the argument parser's own: --help and help COMMAND print it and exit 0", arguments: [["--help"], ["run", "--help"], ["help", "run"]])
    func help(arguments: [String]) throws {
        let run = try RetentionCtlTests.run(arguments)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("USAGE: retentionctl"), "\(run.stdout)")
        #expect(run.stderr.isEmpty, "\(run.stderr)")
    }

    @Test("a value an option does not take is refused as the command line is parsed: exit 2, the option, the value, what it takes", arguments: [
        (["plan", "--horizon", "5m"], "The value '5m' is invalid for '--horizon <horizon>': '5m' is ambiguous (minutes or months?): write 5mo for months; "
            + "expected a whole number and a unit: h, d, w, mo or y"),
        (["plan", "--at", "yesterday"], "The value 'yesterday' is invalid for '--at <at>': expected an ISO 8601 timestamp"),
        (["explain", "s", "d", "k", "--at", "2026-13-01"], "The value '2026-13-01' is invalid for '--at <at>'"),
        (["run", "--batch-size", "0"], "The value '0' is invalid for '--batch-size <batch-size>': expected a whole number above 0; found '0'"),
        (["run", "--max-clock-gap", "2 minutes"], "The value '2 minutes' is invalid for '--max-clock-gap <max-clock-gap>': 'minutes' is too fine a unit"),
        (["jobs", "--in", "bogus"], "The value 'bogus' is invalid for '--in <in>': unknown job state 'bogus'; expected planned, awaiting-approval"),
        (["when", "r", "--from", "soon"], "The value 'soon' is invalid for '--from <from>': expected an ISO 8601 timestamp"),
    ])
    func optionValues(arguments: [String], message: String) throws {
        let run = try RetentionCtlTests.run(arguments)
        #expect(run.status == 2)
        #expect(run.stderr.contains(message), "\(run.stderr)")
        // The usage of the command given, not of retentionctl as a whole (as when run() threw it).
        #expect(run.stderr.contains("Usage: retentionctl \(arguments[0])"), "\(run.stderr)")
    }
}
