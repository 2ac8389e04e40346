import Foundation
import PostgresNIO
package import RetentionEngine
import RetentionRules
import Synchronization

/// Several daemons on one state database (`SharedState`): the planner's lease, claims on jobs,
/// and the fence every write of a claimed job passes.
///
/// Only conditional UPDATEs of rows, each in its own short transaction, and every expiry against
/// the server's `now()`: no session advisory lock (PgBouncer's transaction pooling hands each
/// transaction another server session) and no host clock (hosts disagree; the server is one).
extension PostgresStateStore: SharedState {
    package func lead(rulesDigest: String) async throws(StateError) -> Leadership {
        try await ensureLeases()
        let seconds = leaseSeconds
        return try await transaction { [self] connection in
            // Free or expired: taken, in a new term.
            if let term = try await connection.query("""
                UPDATE leader SET holder = \(daemonID), term = term + 1, elected_at = now(),
                    expires_at = now() + \(seconds) * interval '1 second', rules_digest = \(rulesDigest)
                WHERE name = 'planner' AND (holder IS NULL OR expires_at < now()) RETURNING term
                """, logger: logger).decode(Int64.self).first(where: { _ in true }) {
                return .leader(term: term, elected: true)
            }
            // Held by this daemon and still live: renewed (a reload's rules become the leader's).
            if let term = try await connection.query("""
                UPDATE leader SET expires_at = now() + \(seconds) * interval '1 second', rules_digest = \(rulesDigest)
                WHERE name = 'planner' AND holder = \(daemonID) AND expires_at >= now() RETURNING term
                """, logger: logger).decode(Int64.self).first(where: { _ in true }) {
                return .leader(term: term, elected: false)
            }
            for try await (holder, term, digest) in try await connection.query(
                "SELECT holder, term, rules_digest FROM leader WHERE name = 'planner'", logger: logger).decode((String?, Int64, String?).self) {
                return .follower(holder: holder ?? "", term: term, rulesDigest: digest ?? "")
            }
            throw StateError(path: location, message: "the leader row is missing from the state database (table leader, name 'planner'): "
                             + "it is made by migration \(StateSchema.leases.identifier) and never deleted; restore it from a backup")
        }
    }

    package func claim(_ job: Int64) async throws(StateError) -> JobClaim? {
        try await ensureLeases()
        let seconds = leaseSeconds
        let claimed = try await transaction { [self] connection -> JobClaim? in
            // SKIP LOCKED: a row another daemon is claiming right now is theirs; nobody waits on it.
            for try await (token, previous) in try await connection.query("""
                WITH old AS (SELECT id, claimed_by FROM job WHERE id = \(job) AND state IN ('planned', 'running')
                                 AND (claimed_by IS NULL OR claim_expires_at < now()) FOR UPDATE SKIP LOCKED)
                UPDATE job SET claimed_by = \(daemonID), claim_token = nextval('claim_token'),
                    claim_expires_at = now() + \(seconds) * interval '1 second'
                FROM old WHERE job.id = old.id RETURNING job.claim_token, old.claimed_by
                """, logger: logger).decode((Int64, String?).self) {
                return JobClaim(job: job, token: token, tookOverFrom: previous)
            }
            return nil
        }
        if let claimed { claims.withLock { $0[job] = claimed.token } }
        return claimed
    }

    package func release(_ claim: JobClaim) async throws(StateError) {
        claims.withLock { $0[claim.job] = nil }
        try await transaction { [logger] connection in
            try await connection.query("""
                UPDATE job SET claimed_by = NULL, claim_expires_at = NULL WHERE id = \(claim.job) AND claim_token = \(claim.token)
                """, logger: logger)
        }
    }

    /// Within a write of `job`: when this daemon claimed it, renews the claim if it is still this
    /// daemon's and unexpired, and otherwise throws `.fenced`, so that the write's transaction
    /// (and the caller's next step, a store batch) does not happen. Jobs not claimed here (an
    /// operator's `cancel`, `approve`) are written as they are.
    func fence(_ job: Int64, on connection: PostgresConnection) async throws {
        guard let token = claims.withLock({ $0[job] }) else { return }
        let renewed = try await connection.query("""
            UPDATE job SET claim_expires_at = now() + \(leaseSeconds) * interval '1 second'
            WHERE id = \(job) AND claim_token = \(token) AND claimed_by = \(daemonID) AND claim_expires_at >= now() RETURNING id
            """, logger: logger).collect()
        if renewed.isEmpty {
            claims.withLock { $0[job] = nil }
            throw StateError(path: location, message: "job \(job) is no longer claimed by \(daemonID) (its claim, token \(token), expired or "
                             + "was taken over by another daemon): this daemon writes nothing more for it", kind: .fenced(job: job))
        }
    }

    /// Forgets the claim of a job that ended.
    func ended(_ job: Int64) {
        claims.withLock { $0[job] = nil }
    }

    private var leaseSeconds: Double {
        Double(leaseTTL.components.seconds) + Double(leaseTTL.components.attoseconds) / 1e18
    }

    /// Applies `StateSchema.leases` once, under the migration lock, when it is not there yet.
    private func ensureLeases() async throws(StateError) {
        if leasesReady.withLock({ $0 }) { return }
        let identifier = StateSchema.leases.identifier
        try await transaction { [logger] connection in
            _ = try await connection.query("SELECT pg_advisory_xact_lock(\(StateSchema.migrationLock))", logger: logger).collect()
            let applied = try await connection.query("SELECT count(*) FROM retentiond_migration WHERE identifier = \(identifier)", logger: logger)
                .decode(Int64.self).first { _ in true } ?? 0
            guard applied == 0 else { return }
            for statement in StateSchema.leases.statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
            try await connection.query("INSERT INTO retentiond_migration (identifier, applied_at) VALUES (\(identifier), \(InstantText.format(Date())))",
                                       logger: logger)
        }
        leasesReady.withLock { $0 = true }
    }

    /// `host:pid`: unique among live daemons, and says in the journal where the daemon runs.
    static func defaultDaemonID() -> String {
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count) == 0 ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        return "\(host):\(getpid())"
    }
}
