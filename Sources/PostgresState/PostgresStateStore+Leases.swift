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
        let leadership = try await leadership(rulesDigest: rulesDigest)
        if case .leader(let term, _) = leadership { self.term.withLock { $0 = term } } else { term.withLock { $0 = nil } }
        return leadership
    }

    private func leadership(rulesDigest: String) async throws(StateError) -> Leadership {
        let (leadership, holder) = try await transaction { [self] connection in
            try await lead(rulesDigest: rulesDigest, replacing: nil, on: connection)
        }
        // A holder that died on this host (kill -9, a crash): its lease is void now, not in a TTL.
        guard let holder, isDeadHere(holder) else { return leadership }
        return try await transaction { [self] connection in
            try await lead(rulesDigest: rulesDigest, replacing: holder, on: connection).leadership
        }
    }

    /// Elects this daemon when the lease is free, expired or held by `dead`; renews it when this
    /// daemon holds it; else says who does (and returns the holder).
    private func lead(rulesDigest: String, replacing dead: String?, on connection: PostgresConnection) async throws
        -> (leadership: Leadership, holder: String?) {
        let seconds = leaseSeconds
        // Free or expired: taken, in a new term.
        if let term = try await connection.query("""
            UPDATE leader SET holder = \(daemonID), term = term + 1, elected_at = now(),
                expires_at = now() + \(seconds) * interval '1 second', rules_digest = \(rulesDigest)
            WHERE name = 'planner' AND (holder IS NULL OR expires_at < now() OR holder = \(dead)) RETURNING term
            """, logger: logger).decode(Int64.self).first(where: { _ in true }) {
            return (.leader(term: term, elected: true), nil)
        }
        // Held by this daemon and still live: renewed (a reload's rules become the leader's).
        if let term = try await connection.query("""
            UPDATE leader SET expires_at = now() + \(seconds) * interval '1 second', rules_digest = \(rulesDigest)
            WHERE name = 'planner' AND holder = \(daemonID) AND expires_at >= now() RETURNING term
            """, logger: logger).decode(Int64.self).first(where: { _ in true }) {
            return (.leader(term: term, elected: false), nil)
        }
        for try await (holder, term, digest) in try await connection.query(
            "SELECT holder, term, rules_digest FROM leader WHERE name = 'planner'", logger: logger).decode((String?, Int64, String?).self) {
            return (.follower(holder: holder ?? "", term: term, rulesDigest: digest ?? ""), holder)
        }
        throw StateError(path: location, message: "the leader row is missing from the state database (table leader, name 'planner'): "
                         + "it is made by migration \(StateSchema.leases.identifier) and never deleted; restore it from a backup")
    }

    package func claim(_ job: Int64) async throws(StateError) -> JobClaim? {
        if let claimed = try await claim(job, replacing: nil) { return claimed }
        let holder = try await transaction { [logger] connection in
            try await connection.query("SELECT claimed_by FROM job WHERE id = \(job)", logger: logger).decode(String?.self).first { _ in true } ?? nil
        }
        guard let holder, isDeadHere(holder) else { return nil }
        return try await claim(job, replacing: holder)
    }

    /// Claims the job when it is open and unclaimed, its claim expired, or held by this daemon
    /// (restarted under the same `--daemon-id`) or by `dead`.
    private func claim(_ job: Int64, replacing dead: String?) async throws(StateError) -> JobClaim? {
        let seconds = leaseSeconds
        let claimed = try await transaction { [self] connection -> JobClaim? in
            // SKIP LOCKED: a row another daemon is claiming right now is theirs; nobody waits on it.
            for try await (token, previous) in try await connection.query("""
                WITH old AS (SELECT id, claimed_by FROM job WHERE id = \(job) AND state IN ('planned', 'running')
                                 AND (claimed_by IS NULL OR claimed_by = \(daemonID) OR claimed_by = \(dead) OR claim_expires_at < now())
                             FOR UPDATE SKIP LOCKED)
                UPDATE job SET claimed_by = \(daemonID), claim_token = nextval('claim_token'),
                    claim_expires_at = now() + \(seconds) * interval '1 second'
                FROM old WHERE job.id = old.id RETURNING job.claim_token, old.claimed_by
                """, logger: logger).decode((Int64, String?).self) {
                return JobClaim(job: job, token: token, tookOverFrom: previous == daemonID ? nil : previous)
            }
            return nil
        }
        if let claimed { claims.withLock { $0[job] = claimed.token } }
        return claimed
    }

    /// Whether `holder` is a default identity (`host:pid`) of a process of this host that is gone.
    /// Only such a holder is known dead before its lease runs out: a pid that was reused looks
    /// alive (then the lease is waited out, which is safe). Assumes one pid namespace per host
    /// name (hosts, VMs and containers with hostnames of their own; not two containers sharing
    /// a hostname with separate pid namespaces: give those `--daemon-id`s).
    func isDeadHere(_ holder: String) -> Bool {
        let host = Self.defaultDaemonID().split(separator: ":").dropLast().joined(separator: ":")
        guard holder.hasPrefix(host + ":"), let pid = Int32(holder.dropFirst(host.count + 1)), pid > 0, pid != getpid() else { return false }
        return kill(pid, 0) == -1 && errno == ESRCH
    }

    package func release(_ claim: JobClaim) async throws(StateError) {
        claims.withLock { $0[claim.job] = nil }
        try await transaction { [logger] connection in
            try await connection.query("""
                UPDATE job SET claimed_by = NULL, claim_expires_at = NULL WHERE id = \(claim.job) AND claim_token = \(claim.token)
                """, logger: logger)
        }
    }

    package var claimLease: Duration { leaseTTL }

    package func resign() async throws(StateError) {
        let term = self.term.withLock { term in defer { term = nil }; return term }
        // The tokens stay known: a write of the job after this is fenced, not taken for an operator's.
        let held = claims.withLock { $0 }
        guard term != nil || !held.isEmpty else { return }
        let jobs = Array(held.keys), tokens = jobs.map { held[$0] ?? 0 }
        try await transaction { [self] connection in
            // Expired a moment ago rather than cleared: the next `lead` anywhere takes it in a new term.
            if let term {
                try await connection.query("""
                    UPDATE leader SET expires_at = now() - interval '1 millisecond'
                    WHERE name = 'planner' AND holder = \(daemonID) AND term = \(term)
                    """, logger: logger)
            }
            if !jobs.isEmpty {
                try await connection.query("""
                    UPDATE job SET claimed_by = NULL, claim_expires_at = NULL
                    FROM unnest(\(jobs)::bigint[], \(tokens)::bigint[]) AS held(id, token)
                    WHERE job.id = held.id AND job.claim_token = held.token AND job.claimed_by = \(daemonID)
                    """, logger: logger)
            }
        }
    }

    package func confirm(_ job: Int64) async throws(StateError) {
        try await transaction { [self] connection in try await fence(job, on: connection) }
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

    /// `host:pid`: unique among live daemons, and says in the journal where the daemon runs.
    static func defaultDaemonID() -> String {
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count) == 0 ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        return "\(host):\(getpid())"
    }
}
