import Foundation
import Logging
import RetentionRules

/// Carries one job to its end: a store that executes whole jobs (`JobExecutor`) gets it at once;
/// a store written batch by batch (`BatchWriter`) gets bounded batches.
///
/// Crash safety: a batch's keys are written to the state database before the store is touched;
/// the store applies the batch in one transaction, re-checking each key against the predicate;
/// then the count, the key digest and the last key are committed with the batch's keys
/// forgotten. A batch found begun but not finished after a restart is settled by asking the
/// store which of its keys still match: those that no longer match were done by the crashed
/// batch, the rest are applied now. So counts stay exact and nothing not due is touched.
///
/// In a dry run the same checks decide the job's fate (cancelled, failed, paused by a hold,
/// waiting for approval again); where a pass would apply batches, the dry run counts them.
struct JobRunner {
    let engine: Engine
    let ledger: JobLedger
    /// The engine's state, for reading and for a batch's keys (which a dry run never writes).
    var state: any StateStore { ledger.state }
    let connections: Connections
    let counter: PassCounter
    let progress: @Sendable (Job) -> Void

    /// How a job left the runner.
    enum Outcome {
        /// Done, failed or cancelled.
        case ended(Job)
        /// Paused by a hold, waiting for approval again, or stopped between batches: a later
        /// pass resumes it.
        case waiting(Job)
        /// Another daemon holds its claim, or took it over from this one (fenced): left to it.
        case elsewhere(Job)
    }

    /// What carrying out a job needs, resolved against the current rules and stores.
    struct Work {
        var policy: DatasetPolicy
        /// The job's own predicate, narrowed by what the current rules say: a rule lengthened
        /// since the job was planned must not lose records it now keeps.
        var effective: RecordPredicate
        var change: Change
        var connection: any StoreConnection
        var dataset: Dataset { policy.dataset }
    }

    /// Carries the job out, claimed for this daemon when the state is shared (`SharedState`):
    /// a job another daemon holds is left to it; one whose claim expired is taken over, and its
    /// interrupted batch settled as after a crash. A claim lost meanwhile (fenced) stops this
    /// daemon acting on the job; the next owner settles from the store's truth.
    func run(_ job: Job, at now: Date) async throws -> Outcome {
        guard let shared = engine.sharedState else { return try await carry(job, at: now) }
        let claim: JobClaim
        do {
            guard let taken = try await shared.claim(job.id) else { return .elsewhere(job) }
            claim = taken
        } catch { throw EngineError.state(error) }
        engine.roleChanged?("running job \(job.id)")
        if let previous = claim.tookOverFrom {
            ledger.logger.warning("job \(job.id): took over from \(previous), whose claim expired (died, froze or lost the state database); its batch in flight is settled as after a crash",
                                  metadata: ["event": "\(EngineEvent.jobTakenOver.rawValue)", "lease": "took-over", "job_id": "\(job.id)",
                                             "daemon": "\(shared.daemonID)", "from": "\(previous)"])
        }
        do {
            // Read again under the claim: another daemon may have carried it on since this pass read it.
            guard let current = try await state.job(job.id) else { return .elsewhere(job) }
            let outcome = try await carry(current, at: now)
            if case .waiting = outcome { try? await shared.release(claim) }
            return outcome
        } catch let error as EngineError {
            guard case .state(let stateError) = error, case .fenced = stateError.kind else { throw error }
            ledger.logger.error("job \(job.id): fenced, stopping: \(stateError.message)",
                                metadata: ["event": "\(EngineEvent.jobFenced.rawValue)", "lease": "fenced", "job_id": "\(job.id)", "daemon": "\(shared.daemonID)"])
            return .elsewhere(job)
        } catch let error as StateError where error.kind != .failure {
            ledger.logger.error("job \(job.id): fenced, stopping: \(error.message)",
                                metadata: ["event": "\(EngineEvent.jobFenced.rawValue)", "lease": "fenced", "job_id": "\(job.id)", "daemon": "\(shared.daemonID)"])
            return .elsewhere(job)
        }
    }

    private func carry(_ job: Job, at now: Date) async throws -> Outcome {
        var job = job
        guard let work = try await prepare(&job, at: now) else { return .ended(job) }
        if job.state == .planned {
            try transition { () throws(JobTransitionError) in try job.start(at: engine.clock()) }
            try await ledger.save(job)
        }
        do {
            if try await pause(&job, under: try await state.holds()) { return .waiting(job) }
            switch work.connection {
            case let executor as any JobExecutor:
                try await runWhole(&job, work, executor)
            case let writer as any BatchWriter:
                try await settle(&job, work, writer)
                if let waiting = try await takePartitions(&job, work, writer) { return .waiting(waiting) }
                if let waiting = try await runBatches(&job, work, writer) { return .waiting(waiting) }
                if !ledger.dryRun { try await writer.finish(work.dataset) }
            default:
                return .ended(try await fail(&job, "store \(job.store) can neither change records nor carry out jobs"))
            }
        } catch let error as StateError {
            throw EngineError.state(error)
        } catch let error as EngineError {
            throw error
        } catch {
            return .ended(try await fail(&job, "\(error)"))
        }
        try transition { () throws(JobTransitionError) in try job.complete(at: engine.clock()) }
        try await ledger.end(job)
        ledger.log(.notice, "job \(job.id) done: \(job.action.pastTense) \(job.doneCount) records of \(job.store)/\(job.dataset) under rule \(job.rule)",
                   .jobDone, job)
        return .ended(job)
    }

    /// Resolves the job against the current rules and stores; nil when it ended here (failed or
    /// cancelled, saved with why).
    private func prepare(_ job: inout Job, at now: Date) async throws -> Work? {
        if let problem = job.unreadable { _ = try await fail(&job, problem); return nil }
        guard let store = engine.stores[job.store], let dataset = store.datasets.first(where: { $0.id == job.dataset }) else {
            _ = try await fail(&job, "store \(job.store) or its dataset \(job.dataset) is no longer in the stores files")
            return nil
        }
        let policy = DatasetPolicy(store: store, dataset: dataset, rules: engine.rules)
        guard engine.rules[job.rule] != nil,
              let current = policy.stages(at: now).first(where: { $0.isSame(rule: job.rule, stage: job.stage, action: job.action) }) else {
            let why = "rule \(job.rule) (stage \(job.stage + 1)) no longer applies to \(store.id)/\(dataset.id)"
            try transition { () throws(JobTransitionError) in try job.cancel(why, at: engine.clock()) }
            try await ledger.end(job)
            ledger.log(.notice, "job \(job.id) cancelled: \(why)", .jobCancelled, job)
            return nil
        }
        let connection: any StoreConnection
        do { connection = try await connections.connection(to: store) } catch {
            _ = try await fail(&job, "\(error)")
            return nil
        }
        switch change(for: job, dataset: dataset, at: now) {
        case .success(let change):
            return Work(policy: policy, effective: job.predicate && current.predicate, change: change, connection: connection)
        case .failure(let problem):
            _ = try await fail(&job, problem.reason)
            return nil
        }
    }

    private struct Unworkable: Error { var reason: String }

    /// What the job does to each record, from the dataset's settings.
    private func change(for job: Job, dataset: Dataset, at now: Date) -> Result<Change, Unworkable> {
        switch job.action {
        case .delete:
            return .success(.delete)
        case .anonymize:
            if dataset.anonymize.values.contains(.hmacSHA256), engine.options.hmacKey == nil {
                return .failure(Unworkable(reason: "hmac-sha256 needs a key: give --hmac-key FILE or the systemd credential '\(HMACKey.credentialName)'"))
            }
            return .success(.anonymize(strategies: dataset.anonymize, markColumn: dataset.anonymizedColumn, at: now, hmacKey: engine.options.hmacKey))
        case .restrict:
            guard let column = dataset.restrictColumn else { return .failure(Unworkable(reason: "the dataset has no 'restrict:' column")) }
            return .success(.restrict(column: column, at: now))
        }
    }

    /// The whole job, handed to a store that carries out jobs itself (a dry run asks it to count).
    private func runWhole(_ job: inout Job, _ work: Work, _ executor: any JobExecutor) async throws {
        let predicate = work.effective && work.policy.excluding(try await state.holds())
        let keys: [RecordKey]
        if ledger.dryRun {
            let count = try await counter.count(predicate, for: job.action, store: job.store, dataset: work.dataset, connection: executor)
            keys = (0..<count).map { .text("#\($0 + 1)") }
            counter.took(predicate, with: job.action, store: job.store, dataset: job.dataset)
        } else {
            let request = job
            keys = try await whileClaimed(job.id) { try await executor.execute(request, change: work.change, dataset: work.dataset, predicate: predicate) }
        }
        job.doneCount = keys.count
        job.keysDigest = KeyDigest()
        job.keysDigest.add(keys)
        progress(job)
    }

    /// Settles a batch a crash interrupted: its keys that no longer match were done by it, the
    /// rest are applied now. A dry run counts those done and leaves the rest to its count.
    private func settle(_ job: inout Job, _ work: Work, _ writer: any BatchWriter) async throws {
        guard let pending = try await state.pendingBatch(of: job.id) else { return }
        if try await settlePartition(&job, pending, work, writer) { return }
        let unsettled = try await writer.matching(work.dataset, keys: pending, where: job.predicate)
        let settled = Set(pending).subtracting(unsettled)
        job.doneCount += settled.count
        job.keysDigest.add(pending.filter(settled.contains))
        if ledger.dryRun { return }
        let changed = try await applyFenced(work.change, unsettled, job.id, work, writer,
                                            where: work.effective && work.policy.excluding(try await state.holds()))
        job.doneCount += changed.count
        job.keysDigest.add(changed)
        // A key that matched when read, that this apply did not change and that matches no more
        // was done by the interrupted batch after the read: its daemon, frozen or cut off with the
        // store's transaction open (a SQLite store is checked against the claim only before the
        // batch), committed it meanwhile. Counted here, or nobody counts it (scripts/failover.py).
        let applied = Set(changed)
        let missed = unsettled.filter { !applied.contains($0) }
        let late = missed.isEmpty ? [] : Set(missed).subtracting(try await writer.matching(work.dataset, keys: missed, where: job.predicate))
        job.doneCount += late.count
        job.keysDigest.add(missed.filter(late.contains))
        job.lastKey = pending.last ?? job.lastKey
        try await state.finishBatch(of: job)
        ledger.log(.notice, "job \(job.id): settled a batch interrupted by a crash (\(settled.count + late.count) done before, \(changed.count) now)",
                   .batchSettled, job)
    }

    /// Applies batches until nothing matches; returns the job when it must wait (paused by a
    /// hold, waiting for approval again, stopped, cancelled by an operator meanwhile).
    private func runBatches(_ job: inout Job, _ work: Work, _ writer: any BatchWriter) async throws -> Job? {
        if ledger.dryRun { return try await countBatches(&job, work, writer) }
        // A store that blocks nobody while a batch is applied gets longer batches: fewer commits of
        // the state database (each an fsync).
        let byPredicate = writer.resumesByPredicate && job.action == .delete
        var sizer = BatchSizer(fixed: work.dataset.limits.batchSize ?? engine.options.batchSize,
                               target: writer.blocksWriters ? engine.options.batchTarget : engine.options.batchTarget * 10)
        // A store whose transactions are kept short for its writers' sake gets several of them per
        // recorded batch: one query for their keys and one fsync of the state database, not one each.
        let group = writer.blocksWriters ? max(1, state.batchGroup) : 1
        while true {
            // Between batches is the one place to stop: the job stays running and resumes.
            if engine.stopRequested() { return job }
            if let stored = try await state.job(job.id), stored.state == .cancelled { return stored }
            let holds = try await state.holds()
            if try await pause(&job, under: holds) { return job }
            let predicate = work.effective && work.policy.excluding(holds)
            let keys = try await writer.keys(work.dataset, where: predicate, from: byPredicate ? .anywhere : .after(job.lastKey),
                                             limit: sizer.size * group)
            if keys.isEmpty { return nil }
            if job.action == .delete, job.doneCount + keys.count > Self.allowance(for: job) {
                try await waitForApproval(&job, remaining: try await writer.count(work.dataset, where: predicate))
                return job
            }
            try await state.beginBatch(of: job.id, keys: keys)
            if try await applyGroup(keys, of: &job, work, writer, where: predicate, sizer: &sizer, byPredicate: byPredicate) { return nil }
        }
    }

    /// A recorded batch, applied in store transactions of the sizer's size, each one's progress
    /// saved with the keys still left. Between two transactions the holds are read again (a
    /// record placed under a hold is left out by the next statement's re-check); a stop asked for,
    /// or a hold on the dataset or store, ends the group there, its remaining keys forgotten, for
    /// the batch loop to stop or pause. True when the job is done: a transaction that changed
    /// none of its keys (which a query by predicate would find again).
    private func applyGroup(_ keys: [RecordKey], of job: inout Job, _ work: Work, _ writer: any BatchWriter,
                            where predicate: RecordPredicate, sizer: inout BatchSizer, byPredicate: Bool) async throws -> Bool {
        var rest = keys[...]
        var predicate = predicate
        while !rest.isEmpty {
            // Even shares of what is left: a short remainder would cost a commit for little.
            let transactions = (rest.count + sizer.size - 1) / sizer.size
            let batch = Array(rest.prefix((rest.count + transactions - 1) / transactions))
            rest = rest.dropFirst(batch.count)
            let (changed, took) = try await apply(batch, of: &job, work, writer, where: predicate) { job async throws(StateError) in
                if rest.isEmpty { return try await state.finishBatch(of: job) }
                let holds = try await state.holds()
                let goOn = !engine.stopRequested() && !holds.contains { $0.scope.covers(store: job.store, dataset: job.dataset) }
                if goOn { predicate = work.effective && work.policy.excluding(holds) } else { rest = [] }
                try await state.finishBatch(of: job, remaining: Array(rest))
            }
            sizer.record(batch.count, took: took)
            // Keys that matched but were left unchanged (changed meanwhile by someone else) would
            // be found again by the next query: end here; the next pass plans what is still due.
            if byPredicate, changed == 0 {
                if !rest.isEmpty { try await state.finishBatch(of: job) }
                return true
            }
        }
        return false
    }

    /// One store transaction of a recorded batch: applied by the store, its keys digested, the
    /// progress saved by `finish`. Returns how many records the store changed, and how long its
    /// transaction took: what the store's other writers may wait, which the batch size aims at
    /// (the state database's commits keep nobody waiting).
    private func apply(_ keys: [RecordKey], of job: inout Job, _ work: Work, _ writer: any BatchWriter, where predicate: RecordPredicate,
                       finish: (Job) async throws(StateError) -> Void) async throws -> (changed: Int, took: Duration) {
        // The batch's keys are digested on another core while the store applies it: the store
        // changes only listed keys, so when it changed as many as were listed, the digest of the
        // list is the digest of what it did.
        async let listed = { () -> KeyDigest in
            var digest = KeyDigest()
            digest.add(keys)
            return digest
        }()
        let started = ContinuousClock.now
        let changed = try await applyFenced(work.change, keys, job.id, work, writer, where: predicate)
        let took = ContinuousClock.now - started
        job.doneCount += changed.count
        if changed.count == keys.count {
            job.keysDigest.add(await listed)
        } else {
            job.keysDigest.add(changed)
        }
        job.lastKey = keys.last
        try await finish(job)
        progress(job)
        return (changed.count, took)
    }

    /// A batch applied by the store; on a shared state, committed only if the job's claim is still
    /// this daemon's at the commit (its daemon renews it inside the store's transaction).
    private func applyFenced(_ change: Change, _ keys: [RecordKey], _ job: Int64, _ work: Work, _ writer: any BatchWriter,
                             where predicate: RecordPredicate) async throws -> [RecordKey] {
        guard let shared = engine.sharedState else { return try await writer.apply(change, to: work.dataset, keys: keys, where: predicate) }
        return try await writer.apply(change, to: work.dataset, keys: keys, where: predicate) { () async throws in try await shared.confirm(job) }
    }

    /// A dry run's batches: what they would touch, counted, with the same allowance check.
    private func countBatches(_ job: inout Job, _ work: Work, _ writer: any BatchWriter) async throws -> Job? {
        if engine.stopRequested() { return job }
        let predicate = work.effective && work.policy.excluding(try await state.holds())
        let remaining = try await counter.count(predicate, for: job.action, store: job.store, dataset: work.dataset, connection: writer)
        if job.action == .delete, job.doneCount + remaining > Self.allowance(for: job) {
            try await waitForApproval(&job, remaining: remaining)
            return job
        }
        job.doneCount += remaining
        counter.took(predicate, with: job.action, store: job.store, dataset: job.dataset)
        return nil
    }

    /// How many records a delete job may delete: what it was planned (and approved, or let through
    /// by the guard) for, and a small tolerance for records that fell due while it ran.
    static func allowance(for job: Job) -> Int {
        job.plannedCount + max(10, job.plannedCount / 20)
    }

    /// A delete job that would go beyond its allowance — rows back-dated after the approval, a
    /// rule shortened — stops before the batch and waits for a person to approve the new count.
    func waitForApproval(_ job: inout Job, remaining: Int) async throws {
        let approved = job.plannedCount
        job.plannedCount = job.doneCount + remaining
        let why = "would delete \(job.plannedCount) records, more than the \(approved) it was planned and approved for "
            + "(records fell due while it ran: back-dated?); \(job.doneCount) deleted so far"
        try transition { () throws(JobTransitionError) in try job.awaitApproval(why) }
        try await ledger.save(job)
        ledger.log(.warning, "job \(job.id) waits for approval again: \(why)", .approvalNeeded, job)
    }

    /// Leaves the job where it is when a hold covers its dataset or store; true if it did.
    func pause(_ job: inout Job, under holds: [Hold]) async throws -> Bool {
        guard let hold = holds.first(where: { $0.scope.covers(store: job.store, dataset: job.dataset) }) else { return false }
        job.reason = "paused by hold #\(hold.id) on \(hold.scope): \(hold.reason)"
        try await ledger.save(job)
        ledger.log(.notice, "job \(job.id) paused: \(job.reason!)", .holdBlocked, job)
        return true
    }

    /// Ends the job as failed, saved with why.
    func fail(_ job: inout Job, _ reason: String) async throws -> Job {
        try transition { () throws(JobTransitionError) in try job.fail(reason, at: engine.clock()) }
        try await ledger.end(job)
        ledger.log(.error, "job \(job.id) failed after \(job.doneCount) records: \(reason)", .jobFailed, job)
        return job
    }

    private func transition(_ move: () throws(JobTransitionError) -> Void) throws(EngineError) {
        do { try move() } catch { throw .transition(error) }
    }
}
