import Foundation
public import Testing

/// A database of its own on the test cluster `scripts/with-postgres` started, so that tests of
/// the PostgreSQL state backend do not see each other's tables. The cluster is thrown away with
/// its databases; tests do not drop them.
public struct PostgresTestDatabase: Sendable {
    /// `postgresql://…/NAME`, as `--state` takes it.
    public let url: String
    /// The file holding the role's password (as the credential would).
    public let passwordFile: String
    public let name: String

    /// A new, empty database; nil without a test cluster (a failure under
    /// `RETENTIOND_REQUIRE_POSTGRES=1`, where a skipped test would go unseen).
    public static func create(sourceLocation: SourceLocation = #_sourceLocation) throws -> PostgresTestDatabase? {
        let environment = ProcessInfo.processInfo.environment
        guard let dsn = environment["RETENTIOND_TEST_POSTGRES_DSN"], let passwordFile = environment["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"],
              let slash = dsn.lastIndex(of: "/") else {
            #expect(environment["RETENTIOND_REQUIRE_POSTGRES"] != "1", "PostgreSQL required but scripts/with-postgres did not provide one",
                    sourceLocation: sourceLocation)
            return nil
        }
        let name = "state_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try PostgresShell.psql("CREATE DATABASE \(name)", sourceLocation: sourceLocation)
        return PostgresTestDatabase(url: dsn[...slash] + name, passwordFile: passwordFile, name: name)
    }

    /// Runs `sql` in this database with psql.
    @discardableResult
    public func psql(_ sql: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let run = try ProgramRun.run("/usr/bin/env", ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", name, "-c", sql],
                                     standardError: .separate)
        #expect(run.status == 0, "psql failed: \(sql): \(run.stderr)", sourceLocation: sourceLocation)
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `sql` expecting psql to fail; returns its error output.
    public func psqlFailing(_ sql: String) throws -> (status: Int32, stderr: String) {
        let run = try ProgramRun.run("/usr/bin/env", ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", name, "-c", sql],
                                     standardError: .separate)
        return (run.status, run.stderr)
    }
}
