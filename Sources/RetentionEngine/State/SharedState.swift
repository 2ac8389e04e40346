/// A state database several daemons share (`PostgresStateStore`): what they need on top of a
/// `StateStore` so that one plans at a time, each job runs in one daemon at a time, and a daemon
/// that lost a job's claim writes nothing more for it.
///
/// Every expiry is compared with the database server's clock, never a host's: hosts' clocks
/// disagree, the server's is one. A SQLite `StateDatabase` is not shared: its one daemon always
/// plans, and runs every job.
///
/// Claims fence: between `claim` and `release`, each write of the job (`update`, `beginBatch`,
/// `finishBatch`, `finish`) renews the claim and is made only if the claim is still this
/// daemon's and unexpired; otherwise it throws a `StateError` of kind `.fenced` and writes
/// nothing.
package protocol SharedState: StateStore {
    /// This daemon's identity, in the leader row, claims and the journal.
    var daemonID: String { get }
    /// How long a claim lasts unrenewed: a call to a store longer than this (a command store's
    /// program) renews it meanwhile (`JobRunner.whileClaimed`).
    var claimLease: Duration { get }

    /// Takes the planner's lease when it is free or expired (a new term), renews it when this
    /// daemon holds it, or says who holds it. `rulesDigest` is written with the lease.
    func lead(rulesDigest: String) async throws(StateError) -> Leadership

    /// Claims the job for this daemon when it is open and unclaimed or its claim expired (taken
    /// over); nil when another daemon's claim is live, or the row is being claimed right now.
    func claim(_ job: Int64) async throws(StateError) -> JobClaim?

    /// Lets go of a claim when the job waits (a hold, approval, a stop): another daemon may take
    /// it up in a later pass. A claim already lost is left alone.
    func release(_ claim: JobClaim) async throws(StateError)

    /// Renews the job's claim, or throws `.fenced` when it is no longer this daemon's: the last
    /// word before a store batch commits (`BatchWriter.apply(…beforeCommit:)`).
    func confirm(_ job: Int64) async throws(StateError)

    /// Gives up, at a graceful stop, the planner's lease if this daemon still holds it in the term
    /// it was elected in, and every claim it still holds under its own tokens: another daemon
    /// leads and takes the jobs over at its next pass rather than after the lease. What another
    /// daemon holds now (a new term, a newer token) is left alone.
    func resign() async throws(StateError)
}

/// Who plans, as the leader row says after `lead`.
package enum Leadership: Sendable, Equatable {
    /// This daemon holds the lease in `term`; `elected` when it took it just now.
    case leader(term: Int64, elected: Bool)
    /// `holder` holds a live lease in `term`, with rules whose digest is `rulesDigest`.
    case follower(holder: String, term: Int64, rulesDigest: String)
}

extension Leadership: CustomStringConvertible {
    package var description: String {
        switch self {
        case .leader(let term, _): "leader, term \(term)"
        case .follower(let holder, let term, _): "follower of \(holder), term \(term)"
        }
    }
}

/// A job claimed by this daemon.
package struct JobClaim: Sendable, Equatable {
    package var job: Int64
    /// From a sequence: every claim of every job gets a larger one, so a write under an old claim
    /// is told apart from one under the current claim even when the daemon is the same.
    package var token: Int64
    /// The daemon whose expired claim this one replaced, if any: it was interrupted (died, froze,
    /// lost the network), and its batch in flight is settled as after a crash.
    package var tookOverFrom: String?

    package init(job: Int64, token: Int64, tookOverFrom: String?) {
        self.job = job
        self.token = token
        self.tookOverFrom = tookOverFrom
    }
}
