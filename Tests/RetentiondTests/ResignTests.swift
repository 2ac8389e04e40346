import Foundation
import Testing
import TestSupport

/// A real `retentiond` on a PostgreSQL state, stopped with SIGTERM mid-job, gives up the
/// planner's lease and its claim: another daemon leads and finishes the job within seconds, not
/// after the 30-second lease.
@Suite("retentiond: a graceful stop on a shared state hands over")
struct ResignTests {
    @Test("SIGTERM mid-job: the next daemon leads in a new term and finishes the job at once, counts exact")
    func stopHandsOver() throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let total = 20_000, due = total / 2
        let scenario = try Scenario(ages: (0..<total).map { $0 % 2 == 0 ? 40 * DaemonTests.day : DaemonTests.day }, batchSize: 20)
        defer { scenario.remove() }
        // Named ids: a default `host:pid` of a process gone would be taken over at once anyway.
        let arguments = { (id: String) in
            ["--rules", scenario.rulesPath, "--stores", scenario.storesPath, "--state", database.url, "--state-password-file", database.passwordFile,
             "--init", "--daemon-id", id, "--lease-duration", "30", "--log-target", "console"]
        }
        let first = try Daemon(arguments("first"), log: scenario.directory + "/first.log")
        let started = Date().addingTimeInterval(60)
        // Polled without an error before the daemon made the schema.
        while Date() < started, (try? database.psql("SELECT to_regclass('job') IS NOT NULL")) != "t" { usleep(20_000) }
        while Date() < started, Int((try? database.psql("SELECT coalesce(max(done_count), 0) FROM job")) ?? "") ?? 0 == 0 { usleep(20_000) }
        #expect(try database.psql("SELECT holder FROM leader") == "first")
        first.signal(SIGTERM)
        #expect(first.wait(seconds: 30) == 0, "\(first.output)")
        let left = try database.psql("SELECT state || ' ' || (claimed_by IS NULL) || ' ' || done_count FROM job")
        #expect(left.hasPrefix("running true "), "stopped mid-job, its claim released: \(left)")
        #expect(try database.psql("SELECT expires_at <= now() FROM leader") == "t", "the lease given up")

        let handOver = Date()
        let second = try Daemon(arguments("second"), log: scenario.directory + "/second.log")
        let deadline = Date().addingTimeInterval(25)
        while Date() < deadline, (try? database.psql("SELECT holder FROM leader")) != "second" { usleep(20_000) }
        let led = Date().timeIntervalSince(handOver)
        print("the second daemon led \(String(format: "%.2f", led)) s after it started")
        #expect(try database.psql("SELECT holder || ' ' || term FROM leader") == "second 2")
        #expect(led < 10, "led within its start-up, not after the 30-second lease: \(led) s")
        let finished = Date().addingTimeInterval(120)
        while Date() < finished, (try? database.psql("SELECT state FROM job")) != "done" { usleep(50_000) }
        second.signal(SIGTERM)
        #expect(second.wait(seconds: 30) == 0, "\(second.output)")
        #expect(try database.psql("SELECT state || ' ' || done_count FROM job") == "done \(due)")
        #expect(try scenario.rows() == total - due)
        #expect(!second.output.contains("took over"), "a hand-over, not a takeover: \(second.output)")
    }
}
