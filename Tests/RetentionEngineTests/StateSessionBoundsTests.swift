import Foundation
@testable import PostgresState
import RetentionEngine
import Testing

/// A daemon frozen or cut off inside a state transaction must not keep a job's row locked beyond
/// its claim (FOR UPDATE SKIP LOCKED would pass the job over), and a daemon must tell a state
/// database out of reach from one that refused what was asked.
@Suite("PostgreSQL state session bounds")
struct StateSessionBoundsTests {
    @Test("a state transaction may sit idle half a lease, 5 s at least and 60 s at most", arguments: [
        (Duration.seconds(30), "15000ms"), (.seconds(11), "5500ms"), (.seconds(4), "5000ms"), (.seconds(600), "60000ms"),
        (.milliseconds(12_500), "6250ms"),
    ])
    func idleLimit(lease: Duration, expected: String) {
        let settings = StateSession.settings(lease: lease)
        #expect(settings.contains("SET idle_in_transaction_session_timeout = '\(expected)'"), "\(settings)")
        #expect(settings.contains("SET lock_timeout = '10s'"))
    }

    @Test("a state database nobody answers for is out of reach; a refusal or a fence is not")
    func outOfReach() async throws {
        // Port 1 on loopback: refused at once, no server involved.
        do {
            _ = try await PostgresStateStore.open(url: "postgresql://nobody@127.0.0.1:1/none?sslmode=disable", passwordFile: nil)
            Issue.record("opened a state database on port 1")
        } catch {
            #expect(PostgresStateStore.isOutOfReach(error), "\(error)")
        }
        #expect(!PostgresStateStore.isOutOfReach(StateError(path: "x", message: "the leader row is missing")))
        #expect(!PostgresStateStore.isOutOfReach(StateError(path: "x", message: "\(StateSession.unreachable): but fenced", kind: .fenced(job: 1))))
    }
}
