package import Foundation
package import RetentionRules

/// What a pass needs to remember between passes and across a crash: the jobs and the keys of the
/// batch in flight, the holds in force, when passes ran, the locked rules, and the audit trail
/// each ended job appends to. (Not a store of the stores files: it keeps retentiond's own state.)
///
/// The engine — `PassRunner`, `JobRunner`, `JobLedger`, the forecast, the lock check — reaches
/// its state through this protocol alone. `StateDatabase` keeps it in a SQLite file,
/// `PostgresStateStore` in a PostgreSQL database several daemons can share. What only an
/// operator's command or the daemon needs (placing holds, accepting the clock, verifying the audit
/// chain) is `StateBackend`, which both implement on top.
///
/// Every requirement is one transaction: the crash-safety argument (DESIGN §6) relies on a job
/// being written before its first batch, a batch's keys before the store is touched, and a job's
/// end together with its audit record. The requirements are `async`, since a backend on a server
/// waits on the network (and must not block a thread doing so); SQLite's synchronous methods
/// satisfy them as they are.
package protocol StateStore: Sendable {
    // MARK: Passes and the clock

    /// Refuses (before anything is touched) when the audit chain is keyed and this instance holds
    /// no key: the pass would act and then fail to record it.
    func checkAuditKey() async throws(StateError)
    /// Records the start of a pass at `now` and returns its id; refuses when the clock reads
    /// earlier than the last pass's, or more than `maximumGap` later.
    func beginPass(at now: Date, maximumGap: TimeInterval?) async throws(StateError) -> Int64
    /// Records how a pass ended.
    func finishPass(_ id: Int64, at now: Date, result: String) async throws(StateError)

    // MARK: Locked rules

    /// The locked rules remembered so far.
    func lockedRules() async throws(StateError) -> [LockedRule]
    /// Remembers these forms of locked rules, replacing what was remembered of the same rules.
    func remember(_ locked: [LockedRule]) async throws(StateError)

    // MARK: Holds

    /// The holds in force.
    func holds() async throws(StateError) -> [Hold]

    // MARK: Jobs

    /// Writes a new job and returns it with its id.
    func insert(_ job: Job) async throws(StateError) -> Job
    /// Saves a job's state and progress. A job read as unreadable keeps its row as written; only
    /// its state, reason and times change.
    func update(_ job: Job) async throws(StateError)
    /// One job by id.
    func job(_ id: Int64) async throws(StateError) -> Job?
    /// Jobs in the given states (all when empty), oldest first. A row that cannot be read as
    /// written comes back as a job with `unreadable` set, never as a guess.
    func jobs(in states: [Job.State]) async throws(StateError) -> [Job]
    /// Ends a job (done, failed or cancelled) and appends its audit record, in one transaction.
    @discardableResult
    func finish(_ job: Job) async throws(StateError) -> AuditRecord

    // MARK: The batch in flight

    /// Records the keys of the batch about to be applied, before the store is touched.
    func beginBatch(of job: Int64, keys: [RecordKey]) async throws(StateError)
    /// The keys of a batch that was begun and not finished: a crash happened while it was applied.
    func pendingBatch(of job: Int64) async throws(StateError) -> [RecordKey]?
    /// Saves the job's progress and forgets the batch's keys, in one transaction.
    func finishBatch(of job: Job) async throws(StateError)

    /// How many store transactions one recorded batch may span: more than one when the backend
    /// can save a job's progress together with what is left of its batch's keys
    /// (`finishBatch(of:remaining:)`), so that one durable commit of keys covers several short
    /// store transactions.
    var batchGroup: Int { get }
    /// Saves the job's progress and keeps only `remaining` of the batch's keys (none: forgets the
    /// batch), in one transaction. Only a backend whose `batchGroup` exceeds one is given keys.
    func finishBatch(of job: Job, remaining: [RecordKey]) async throws(StateError)
}

extension StateStore {
    package var batchGroup: Int { 1 }

    package func finishBatch(of job: Job, remaining: [RecordKey]) async throws(StateError) {
        precondition(remaining.isEmpty, "a state backend whose batchGroup is 1 cannot keep part of a batch")
        try await finishBatch(of: job)
    }
}

extension StateStore {
    /// Remembers the current form of every locked rule (after `RuleLocks.violations` found none).
    /// Bindings accumulate: a dataset a locked rule was ever bound to stays remembered.
    package func remember(locked rules: [Rule], in stores: StoreSet, at now: Date) async throws(StateError) {
        let known = Dictionary(try await lockedRules().map { ($0.rule, $0) }, uniquingKeysWith: { first, _ in first })
        try await remember(rules.filter(\.lock).map { rule in LockedRule(rule, in: stores, at: now, known: known[rule.id]) })
    }
}
