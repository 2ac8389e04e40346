import Foundation
public import Testing

/// `psql` against the test cluster `scripts/with-postgres` started (its `PG*` variables).
public enum PostgresShell: Sendable {
    /// Runs `sql`, stopping at its first error; records a test issue if psql failed. Returns what
    /// it printed, unaligned and without headers, trimmed.
    @discardableResult
    public static func psql(_ sql: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let run = try ProgramRun.run("/usr/bin/env", ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql], standardError: .separate)
        #expect(run.status == 0, "psql failed: \(sql): \(run.stderr)", sourceLocation: sourceLocation)
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
