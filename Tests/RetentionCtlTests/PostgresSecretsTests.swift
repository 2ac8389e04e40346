import Foundation
import Testing
import TestSupport

/// No command prints a PostgreSQL password: not lint on a DSN that holds one, not `plan` or
/// `lint --live` when a server asks for it in cleartext.
@Suite("PostgreSQL secrets in output")
struct PostgresSecretsTests {
    static let rules = """
        version: 1
        rules:
          purge: {retain: 30d, from: created_at, then: delete, basis: test}
        """

    static func files(_ dsn: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pg-secrets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try rules.write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        try """
            stores:
              db:
                kind: postgres
                dsn: \(dsn)
                datasets:
                  events: {table: events, key: id, rules: [purge], fields: {created_at: created_at}}
            """.write(toFile: directory + "/stores.yaml", atomically: true, encoding: .utf8)
        return directory
    }

    @Test("lint reports a key/value DSN and a password in a URL at their place, without the secret", arguments: [
        ("host=db.example.org dbname=shop password=Sw0rdfish-kv", "stores.yaml:4:10: error: the dsn must be a URL"),
        ("postgresql://app:Sw0rdfish-kv@db.example.org/shop", "stores.yaml:4:26: error: the dsn holds a password"),
        ("postgresql://app@db.example.org/shop?sslmode=verify-full&password=Sw0rdfish-kv", "error: the dsn holds a password (?password=)"),
    ])
    func lint(dsn: String, expected: String) throws {
        let directory = try Self.files(dsn)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for arguments in [["lint", directory + "/rules.yaml", "--stores", directory + "/stores.yaml"],
                          ["plan", "--rules", directory + "/rules.yaml", "--stores", directory + "/stores.yaml", "--state", directory + "/state.sqlite", "--init"]] {
            let run = try RetentionCtlTests.run(arguments)
            #expect(run.status == 1)
            #expect((run.stdout + run.stderr).contains(expected), "\(run.stdout)\(run.stderr)")
            #expect(!(run.stdout + run.stderr).contains("Sw0rdfish"), "\(run.stdout)\(run.stderr)")
        }
    }

    @Test("plan and lint --live against a server asking for a cleartext password: refused, said so, nothing secret printed")
    func cleartext() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let dsn = environment["RETENTIOND_TEST_POSTGRES_CLEARTEXT_DSN"], let passwordFile = environment["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"] else {
            #expect(environment["RETENTIOND_REQUIRE_POSTGRES"] != "1", "PostgreSQL required but scripts/with-postgres did not provide one")
            return
        }
        let password = try String(contentsOfFile: passwordFile, encoding: .utf8)
        let directory = try Self.files(dsn)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let shown = dsn + "?sslmode=disable"
        let plan = try RetentionCtlTests.run(["plan", "--rules", directory + "/rules.yaml", "--stores", directory + "/stores.yaml",
                                              "--state", directory + "/state.sqlite", "--init", "--postgres-password-file", passwordFile])
        let live = try RetentionCtlTests.run(["lint", directory + "/rules.yaml", "--stores", directory + "/stores.yaml", "--live",
                                              "--postgres-password-file", passwordFile])
        for run in [plan, live] {
            let output = run.stdout + run.stderr
            #expect(run.status == 1, "\(output)")
            #expect(output.contains("cannot connect to \(shown): the server asked for the password in cleartext"), "\(output)")
            #expect(!output.contains(password), "\(output)")
        }
        #expect(live.stdout.contains(directory + "/stores.yaml:2:3: error: cannot open store 'db'"), "\(live.stdout)")
    }
}
