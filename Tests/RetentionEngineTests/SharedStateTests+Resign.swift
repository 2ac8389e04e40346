import Foundation
@testable import PostgresState
@testable import RetentionEngine
import Testing
import TestSupport

/// A daemon stopped gracefully gives up the planner's lease and its claims (`SharedState.resign`),
/// only in the term and under the tokens it holds them in.
extension SharedStateTests {
    static func open(_ database: PostgresTestDatabase, _ id: String, ttl: Duration = .seconds(30)) async throws -> PostgresStateStore {
        try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, creation: .ifMissing, daemonID: id, leaseTTL: ttl)
    }

    @Test("resigning gives up the lease and the claims it holds: another daemon leads and claims at once, in a new term, as no takeover")
    func resignHandsOver() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short"))
        _ = try EngineTests.seed(fixture)
        let planner = try await Self.engine(fixture, database, id: "host-a:1") { _ in }
        // Planned, waiting for approval (71 of 100 is past the default guard); approved by hand.
        var job = try #require(try await planner.runPass(at: Self.now).waiting.first)
        try job.approve(by: "test", at: Self.now)
        try await planner.state.update(job)
        let first = Self.shared(planner), second = try await Self.open(database, "host-b:2")
        #expect(try await first.lead(rulesDigest: "d") == .leader(term: 1, elected: false))
        let claim = try #require(try await first.claim(job.id))
        #expect(try await second.lead(rulesDigest: "d") == .follower(holder: "host-a:1", term: 1, rulesDigest: "d"))
        #expect(try await second.claim(job.id) == nil)
        try await first.resign()
        #expect(try await second.lead(rulesDigest: "d") == .leader(term: 2, elected: true))
        let taken = try #require(try await second.claim(job.id))
        #expect(taken.tookOverFrom == nil && taken.token > claim.token, "\(taken)")
        // Its claim gone, the resigned daemon is fenced from the job.
        let error = await #expect(throws: StateError.self) { try await first.confirm(job.id) }
        #expect(error?.kind == .fenced(job: job.id), "\(String(describing: error))")
        // Resigning again (nothing held) writes nothing and takes nothing from the new holder.
        try await first.resign()
        #expect(try database.psql("SELECT holder || ' ' || term || ' ' || (expires_at > now()) FROM leader") == "host-b:2 2 true")
        #expect(try database.psql("SELECT claimed_by FROM job WHERE id = \(job.id)") == "host-b:2")
        await planner.state.close()
        await second.close()
    }

    @Test("a daemon that lost its lease and claim meanwhile resigns nothing of the daemon that took them over")
    func resignSparesTheNextHolder() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short"))
        _ = try EngineTests.seed(fixture)
        let planner = try await Self.engine(fixture, database, id: "a", ttl: .seconds(3)) { _ in }
        // Planned, waiting for approval (71 of 100 is past the default guard); approved by hand.
        var job = try #require(try await planner.runPass(at: Self.now).waiting.first)
        try job.approve(by: "test", at: Self.now)
        try await planner.state.update(job)
        let stale = Self.shared(planner), next = try await Self.open(database, "b")
        #expect(try await stale.lead(rulesDigest: "d") == .leader(term: 1, elected: false))
        _ = try #require(try await stale.claim(job.id))
        try await Task.sleep(for: .milliseconds(3400))
        #expect(try await next.lead(rulesDigest: "d") == .leader(term: 2, elected: true))
        let taken = try #require(try await next.claim(job.id))
        #expect(taken.tookOverFrom == "a")
        try await stale.resign()
        #expect(try database.psql("SELECT holder || ' ' || term || ' ' || (expires_at > now()) FROM leader") == "b 2 true")
        #expect(try database.psql("SELECT claimed_by || ' ' || claim_token FROM job WHERE id = \(job.id)") == "b \(taken.token)")
        #expect(try await next.lead(rulesDigest: "d") == .leader(term: 2, elected: false))
        await planner.state.close()
        await next.close()
    }
}
