import Foundation
import Logging
import RetentionRules

/// The job a stage makes due on one dataset: how many records, whether it waits for approval (the
/// mass-deletion guard, `review: required`), for its grace window, or not at all (a deadline
/// always wins over grace).
extension PassRunner {
    /// Creates the stage's job, or returns nil when nothing is due.
    mutating func newJob(for stage: PlannedStage, policy: DatasetPolicy, excluded: RecordPredicate,
                         connection: any StoreConnection) async throws -> Job? {
        let store = policy.store, dataset = policy.dataset
        let predicate = stage.predicate && excluded
        let due = try await counter.count(predicate, for: stage.action, store: store.id, dataset: dataset, connection: connection)
        var note: String?
        if let deferral = stage.deferral {
            note = try await engine.reportDeferral(of: stage, deferral, restricting: due, policy: policy, connection: connection,
                                                   excluded: excluded, report: &report, quietly: ledger.dryRun)
        }
        guard due > 0 else { return nil }
        let counted = stage.action == .delete ? try await guardTotal(due: due, store: store.id, dataset: dataset, connection: connection) : nil
        // Counted up to what the guard needed: the dataset holds at least that many, and no exact total is known.
        let total = counted.flatMap { $0.exact ? $0.records : nil }
        var job = Job(id: 0, store: store.id, dataset: dataset.id, rule: stage.rule.id, stage: stage.stageIndex, action: stage.action,
                      isViolation: stage.isViolation, cutoff: stage.cutoff, predicate: stage.predicate, state: .planned,
                      plannedAt: now, notBefore: now, plannedCount: due, datasetTotal: total, doneCount: 0, keysDigest: KeyDigest(),
                      note: note)
        if let grace = dataset.limits.grace, !grace.isZero {
            job.notBefore = stage.rule.calendar.due(after: grace, from: now)
        }
        if let deadline = try await engine.earliestDeadline(of: stage, policy: policy, connection: connection, predicate: predicate) {
            try await warnOverdue(stage, policy: policy, excluded: excluded, connection: connection)
            job.notBefore = max(now, min(job.notBefore, deadline))
        }
        if let reason = approvalReason(for: stage, due: due, total: counted?.records, dataset: dataset) {
            do { try job.awaitApproval(reason) } catch { throw EngineError.transition(error) }
        }
        guard let inserted = try await insertOnce(job) else { return nil }
        job = inserted
        announce(job)
        return job
    }

    /// Writes the new job; nil when another daemon (a leader before this one whose lease lapsed
    /// mid-pass) planned the same stage meanwhile: its job stands.
    private func insertOnce(_ job: Job) async throws(StateError) -> Job? {
        do {
            return try await ledger.insert(job)
        } catch {
            guard case .alreadyPlanned = error.kind else { throw error }
            engine.logger.info("\(job.store)/\(job.dataset): rule \(job.rule) stage \(job.stage + 1) not planned again: \(error.message)")
            return nil
        }
    }

    /// Tells the journal of the new job.
    private func announce(_ job: Job) {
        if job.isViolation {
            ledger.log(.error, "retain-none violation: \(job.plannedCount) records of \(job.store)/\(job.dataset) exist although rule \(job.rule) says they must never be stored; deleting them",
                       .retainNoneViolation, job)
        }
        if job.state == .awaitingApproval {
            ledger.log(.warning, "job \(job.id) waits for approval: \(job.reason!)", .approvalNeeded, job)
        } else {
            ledger.log(.info, "job \(job.id) planned: \(job.action.rawValue) \(job.plannedCount) records of \(job.store)/\(job.dataset) under rule \(job.rule) (cutoff \(InstantText.format(job.cutoff)))",
                       .jobPlanned, job)
        }
    }

    /// Warns when some of the records a stage with a deadline deletes are past it.
    private func warnOverdue(_ stage: PlannedStage, policy: DatasetPolicy, excluded: RecordPredicate,
                             connection: any StoreConnection) async throws {
        guard let overdue = stage.overdue, case let late = try await connection.count(policy.dataset, where: overdue && excluded), late > 0,
              let oldest = try await engine.earliestDeadline(of: stage, policy: policy, connection: connection, predicate: overdue && excluded),
              !ledger.dryRun else { return }
        let store = policy.store.id, dataset = policy.dataset.id
        engine.logger.warning("rule \(stage.rule.id) on \(store)/\(dataset): \(late) records are past their deadline of \(stage.rule.deadline!) (the oldest since \(InstantText.format(oldest)))",
                              metadata: ["event": "\(EngineEvent.deadlineMissed.rawValue)", "rule": "\(stage.rule.id)",
                                         "store": "\(store)", "dataset": "\(dataset)", "count": "\(late)"])
    }

    /// The dataset's records as far as the mass-deletion guard needs them: all of them, exactly,
    /// when they are fewer than make `due` less than the guard's share; otherwise that many, which
    /// the dataset holds at least (`exact` false) — on a big table, a read of far fewer rows than
    /// it holds. The guard decides alike both ways: `due` is within its share of that many. Nil
    /// when no total can make the share trip (a share of 100% or more: the dataset holds at least
    /// the `due` records just counted), so that such a pass reads no more than the due records.
    func guardTotal(due: Int, store: String, dataset: Dataset, connection: any StoreConnection) async throws -> (records: Int, exact: Bool)? {
        let share = dataset.limits.maxDeleteShare ?? engine.options.maxDeleteShare
        guard share < 1 else { return nil }
        // One more than the share needs, so that rounding cannot put the bound on the guard's edge.
        let enough = share > 0 ? (Double(due) / share).rounded(.up) + 1 : .infinity
        guard enough < Double(Int.max / 2) else {
            return (try await counter.total(store: store, dataset: dataset, connection: connection), true)
        }
        let records = try await counter.total(store: store, dataset: dataset, connection: connection, upTo: Int(enough))
        return (records, records < Int(enough))
    }

    /// Why a job must wait for `retentionctl approve`, if it must.
    func approvalReason(for stage: PlannedStage, due: Int, total: Int?, dataset: Dataset) -> String? {
        if stage.rule.review == .required {
            return "rule \(stage.rule.id) requires review before it acts (review: required)"
        }
        guard stage.action == .delete else { return nil }
        if let limit = dataset.limits.maxDeleteCount ?? engine.options.maxDeleteCount, due > limit {
            return "would delete \(due) records of \(dataset.id), more than the guard's \(limit)"
        }
        // No total: the share cannot trip (guardTotal).
        guard let total, total > 0 else { return nil }
        let share = dataset.limits.maxDeleteShare ?? engine.options.maxDeleteShare
        if Double(due) > share * Double(total) {
            let percent = (Double(due) / Double(total) * 1000).rounded() / 10
            return "would delete \(due) of \(total) records of \(dataset.id) (\(percent)%), more than the guard's \(Int((share * 100).rounded()))%"
        }
        return nil
    }
}
