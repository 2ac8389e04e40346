import Foundation
import Logging
import RetentionRules

/// A delete job on a table partitioned by range on its anchor takes the wholly due partitions
/// whole before its batches delete the rest (the partition the cutoff cuts through, the default
/// partition, a partition where one row must stay).
///
/// Crash safety, as for a batch: the partition (its oid and row count, counted under lock) is
/// the batch in flight in the state before the store detaches it, in the store transaction that
/// holds the lock; the progress is committed after. A restart finds the marker and asks the store
/// whether the partition is still attached: no, the drop committed and its rows count; yes, it
/// rolled back and nothing was done. Either way the rows count once.
extension JobRunner {
    /// Takes every partition the job may take whole; returns the job when it must wait (stopped,
    /// cancelled meanwhile, paused by a hold, waiting for approval again).
    func takePartitions(_ job: inout Job, _ work: Work, _ writer: any BatchWriter) async throws -> Job? {
        guard job.action == .delete, !ledger.dryRun, work.dataset.partitions != .rows,
              let dropper = writer as? any PartitionDropper else { return nil }
        let plan: PartitionPlan
        do {
            plan = try await dropper.partitionPlan(work.dataset, where: work.effective && work.policy.excluding(try await state.holds()), checkingRows: false)
        } catch let error as StateError {
            throw error
        } catch {
            // The batches delete the same rows; if the store itself is gone, they say so.
            ledger.log(.warning, "job \(job.id): the partitions of \(job.store)/\(job.dataset) could not be read, every row goes by batches: \(error)",
                       .partitionTaken, job)
            return nil
        }
        for partition in plan.whole {
            if engine.stopRequested() { return job }
            if let stored = try await state.job(job.id), stored.state == .cancelled { return stored }
            let holds = try await state.holds()
            if try await pause(&job, under: holds) { return job }
            let predicate = work.effective && work.policy.excluding(holds)
            if let waiting = try await take(partition, of: &job, work, dropper, where: predicate) { return waiting }
        }
        return nil
    }

    /// One partition, taken whole or left to the batches.
    private func take(_ partition: PartitionPlan.Partition, of job: inout Job, _ work: Work, _ dropper: any PartitionDropper,
                      where predicate: RecordPredicate) async throws -> Job? {
        var recorded: PartitionMarker?
        let result: Result<PartitionMarker, PartitionKept>
        do {
            let allowance = Self.allowance(for: job), done = job.doneCount, id = job.id
            result = try await dropper.takeWhole(partition, of: work.dataset, where: predicate) { marker in
                if done + marker.rows > allowance { throw BeyondAllowance() }
                try await state.beginBatch(of: id, keys: [marker.pendingKey])
                recorded = marker
            }
        } catch is BeyondAllowance {
            try await waitForApproval(&job, remaining: try await dropper.count(work.dataset, where: predicate))
            return job
        } catch let error as StateError {
            throw error
        } catch {
            // Recorded, then an error: the commit may have reached the server before the error did
            // (a connection lost after COMMIT), so the server says what happened, as after a crash.
            // A server that cannot say fails the job, and the next pass settles the marker.
            if let recorded {
                ledger.log(.warning, "job \(job.id): taking partition \(partition.name) whole failed: \(error)", .partitionTaken, job)
                _ = try await settlePartition(&job, [recorded.pendingKey], work, dropper)
                return nil
            }
            result = .failure(PartitionKept("\(error)"))
        }
        switch result {
        case .success(let marker):
            job.doneCount += marker.rows
            job.keysDigest.add([marker.key])
            try await state.finishBatch(of: job)
            progress(job)
            let verb = work.dataset.partitions == .detach ? "detached" : "dropped"
            ledger.log(.notice, "job \(job.id): \(verb) partition \(marker.name) whole (\(marker.rows) records)", .partitionTaken, job)
        case .failure(let kept):
            ledger.log(.notice, "job \(job.id): partition \(partition.name) is deleted row by row: \(kept.reason)", .partitionTaken, job)
        }
        return nil
    }

    /// Settles a partition a crash interrupted (see the type's comment); false when the pending
    /// batch is one of keys.
    func settlePartition(_ job: inout Job, _ pending: [RecordKey], _ work: Work, _ writer: any BatchWriter) async throws -> Bool {
        // Elsewhere a batch of one text key of that form is just that key.
        guard let dropper = writer as? any PartitionDropper,
              let marker = PartitionMarker(pending, legacy: dropper.keyType(work.dataset) == .integer) else { return false }
        let taken = try await !dropper.isAttached(marker.oid, to: work.dataset)
        if taken {
            job.doneCount += marker.rows
            job.keysDigest.add([marker.key])
        }
        if ledger.dryRun { return true }
        try await state.finishBatch(of: job)
        let outcome = taken ? "taken whole before: \(marker.rows) records" : "still attached: nothing was done"
        ledger.log(.notice, "job \(job.id): settled partition \(marker.name), whose drop was interrupted (\(outcome))", .batchSettled, job)
        return true
    }
}

/// A partition would take the job beyond what it was planned and approved for.
private struct BeyondAllowance: Error {}
