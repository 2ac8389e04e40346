import Foundation
import Logging
import RetentionRules

extension Engine {
    /// Runs a job to its end in bounded batches; returns it finished (done or failed), or nil when a
    /// hold on its dataset paused it or a stop was requested.
    ///
    /// Crash safety: a batch's keys are written to the state database before the store is touched;
    /// the store applies the batch in one transaction, re-checking each key against the predicate;
    /// then the count, the key digest and the last key are committed with the batch's keys
    /// forgotten. A batch found begun but not finished after a restart is settled by asking the
    /// store which of its keys still match: those that no longer match were done by the crashed
    /// batch, the rest are applied now. So counts stay exact and nothing not due is touched.
    func run(_ job: Job, at now: Date, connections: inout Connections, progress: @Sendable (Job) -> Void) async throws -> Job? {
        var job = job
        if let problem = job.unreadable { return try fail(&job, reason: problem) }
        guard let store = stores[job.store], let dataset = store.datasets.first(where: { $0.id == job.dataset }) else {
            return try fail(&job, reason: "store \(job.store) or its dataset \(job.dataset) is no longer in the stores files")
        }
        let policy = DatasetPolicy(store: store, dataset: dataset, rules: rules)
        // The job's own predicate, narrowed by what the current rules say: a rule lengthened since
        // the job was planned must not lose records it now keeps.
        guard rules[job.rule] != nil,
              let current = policy.stages(at: now).first(where: { $0.isSame(rule: job.rule, stage: job.stage, action: job.action) }) else {
            job.state = .cancelled
            job.reason = "rule \(job.rule) (stage \(job.stage + 1)) no longer applies to \(store.id)/\(dataset.id)"
            job.finishedAt = clock()
            try state.finish(job)
            logger.notice("job \(job.id) cancelled: \(job.reason!)", metadata: metadata(.jobCancelled, job))
            return job
        }
        let effective = job.predicate && current.predicate
        let connection: any StoreConnection
        do { connection = try await connections.connection(to: store) } catch {
            return try fail(&job, reason: "\(error)")
        }
        let change: Change
        switch job.action {
        case .delete: change = .delete
        case .anonymize:
            change = .anonymize(strategies: dataset.anonymize, markColumn: dataset.anonymizedColumn, at: now, hmacKey: options.hmacKey)
            if dataset.anonymize.values.contains(.hmacSHA256), options.hmacKey == nil {
                return try fail(&job, reason: "hmac-sha256 needs a key: give --hmac-key FILE or the systemd credential '\(HMACKey.credentialName)'")
            }
        case .restrict:
            guard let column = dataset.restrictColumn else { return try fail(&job, reason: "the dataset has no 'restrict:' column") }
            change = .restrict(column: column, at: now)
        }
        if job.state == .planned {
            job.state = .running
            job.startedAt = clock()
            job.reason = nil
            try state.update(job)
        }
        // A store that blocks nobody while a batch is applied gets longer batches: fewer commits of
        // the state database (each an fsync).
        let byPredicate = connection.resumesByPredicate && job.action == .delete
        var sizer = BatchSizer(fixed: dataset.limits.batchSize ?? options.batchSize,
                               target: connection.blocksWriters ? options.batchTarget : options.batchTarget * 10)
        do {
            let holds = try state.holds()
            if try pause(&job, under: holds) { return nil }
            let whole = try await connection.execute(job, change: change, dataset: dataset,
                                                     predicate: effective && Self.excluding(holds, in: policy))
            if let keys = whole {
                job.doneCount = keys.count
                job.keysDigest = KeyDigest()
                job.keysDigest.add(keys)
                progress(job)
            } else if let pending = try state.pendingBatch(of: job.id) {
                let unsettled = try await connection.matching(dataset, keys: pending, where: job.predicate)
                let settled = Set(pending).subtracting(unsettled)
                job.doneCount += settled.count
                job.keysDigest.add(pending.filter(settled.contains))
                let changed = try await connection.apply(change, to: dataset, keys: unsettled,
                                                         where: effective && Self.excluding(holds, in: policy))
                job.doneCount += changed.count
                job.keysDigest.add(changed)
                job.lastKey = pending.last ?? job.lastKey
                try state.finishBatch(of: job)
                logger.notice("job \(job.id): settled a batch interrupted by a crash (\(settled.count) done before, \(changed.count) now)",
                              metadata: metadata(.batchSettled, job))
            }
            while whole == nil {
                // Between batches is the one place to stop: the job stays running and resumes.
                if stopRequested() { return nil }
                if let stored = try state.job(job.id), stored.state == .cancelled { return stored }
                let holds = try state.holds()
                if try pause(&job, under: holds) { return nil }
                let predicate = effective && Self.excluding(holds, in: policy)
                let keys = try await connection.keys(dataset, where: predicate, from: byPredicate ? .anywhere : .after(job.lastKey),
                                                     limit: sizer.size)
                if keys.isEmpty { break }
                if job.action == .delete, job.doneCount + keys.count > Self.allowance(for: job) {
                    try waitForApproval(&job, remaining: try await connection.count(dataset, where: predicate))
                    return nil
                }
                try state.beginBatch(of: job.id, keys: keys)
                // The batch's keys are digested on another core while the store applies it: the
                // store changes only listed keys, so when it changed as many as were listed, the
                // digest of the list is the digest of what it did.
                async let listed = { () -> KeyDigest in
                    var digest = KeyDigest()
                    digest.add(keys)
                    return digest
                }()
                let started = ContinuousClock.now
                let changed = try await connection.apply(change, to: dataset, keys: keys, where: predicate)
                sizer.record(keys.count, took: .now - started)
                job.doneCount += changed.count
                if changed.count == keys.count {
                    job.keysDigest.add(await listed)
                } else {
                    job.keysDigest.add(changed)
                }
                job.lastKey = keys.last
                try state.finishBatch(of: job)
                progress(job)
                // Keys that matched but were left unchanged (changed meanwhile by someone else) would
                // be found again by the next query: end here; the next pass plans what is still due.
                if byPredicate, changed.isEmpty { break }
            }
            try await connection.finish(dataset)
        } catch let error as StateError {
            throw EngineError.state(error)
        } catch {
            return try fail(&job, reason: "\(error)")
        }
        job.state = .done
        job.finishedAt = clock()
        try state.finish(job)
        logger.notice("job \(job.id) done: \(job.action.pastTense) \(job.doneCount) records of \(store.id)/\(dataset.id) under rule \(job.rule)",
                      metadata: metadata(.jobDone, job))
        return job
    }

    /// How many records a delete job may delete: what it was planned (and approved, or let through
    /// by the guard) for, and a small tolerance for records that fell due while it ran.
    static func allowance(for job: Job) -> Int {
        job.plannedCount + max(10, job.plannedCount / 20)
    }

    /// A delete job that would go beyond its allowance — rows back-dated after the approval, a
    /// rule shortened — stops before the batch and waits for a person to approve the new count.
    func waitForApproval(_ job: inout Job, remaining: Int) throws {
        let approved = job.plannedCount
        job.plannedCount = job.doneCount + remaining
        job.state = .awaitingApproval
        job.reason = "would delete \(job.plannedCount) records, more than the \(approved) it was planned and approved for "
            + "(records fell due while it ran: back-dated?); \(job.doneCount) deleted so far"
        try state.update(job)
        logger.warning("job \(job.id) waits for approval again: \(job.reason!)", metadata: metadata(.approvalNeeded, job))
    }

    /// Leaves the job where it is when a hold covers its dataset or store; true if it did.
    func pause(_ job: inout Job, under holds: [Hold]) throws -> Bool {
        guard let hold = holds.first(where: { $0.scope.covers(store: job.store, dataset: job.dataset) }) else { return false }
        job.reason = "paused by hold #\(hold.id) on \(hold.scope): \(hold.reason)"
        try state.update(job)
        logger.notice("job \(job.id) paused: \(job.reason!)", metadata: metadata(.holdBlocked, job))
        return true
    }

    func fail(_ job: inout Job, reason: String) throws -> Job {
        job.state = .failed
        job.reason = reason
        job.finishedAt = clock()
        try state.finish(job)
        logger.error("job \(job.id) failed after \(job.doneCount) records: \(reason)", metadata: metadata(.jobFailed, job))
        return job
    }
}
