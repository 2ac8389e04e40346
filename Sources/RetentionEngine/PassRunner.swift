import Foundation
import Logging
import RetentionRules

/// One pass: finish what a crash or an earlier pass left open, in the order it was planned, then
/// create and run the jobs due at `now`, dataset by dataset.
///
/// A dry run takes this same path and makes the same decisions — open jobs first, anonymize
/// and restrict before erasures before deletions, the mass-deletion guard, grace windows, holds —
/// with a `JobLedger` that writes nothing and a `JobRunner` that counts instead of applying.
struct PassRunner {
    let engine: Engine
    let now: Date
    /// The engine's state. Jobs are written through `ledger` (a dry run's writes nothing); the
    /// pass's own record and the locked rules directly, in steps a dry run skips.
    var state: any StateStore { ledger.state }
    let ledger: JobLedger
    let connections: Connections
    let counter: PassCounter
    let jobs: JobRunner
    var report = PassReport()
    /// Open jobs this pass ended: their stages may be planned again. A dry run's state database
    /// still has them open.
    private var ended: Set<Int64> = []

    init(engine: Engine, now: Date, progress: @escaping @Sendable (Job) -> Void) {
        self.engine = engine
        self.now = now
        ledger = JobLedger(state: engine.stateStore, logger: engine.logger, dryRun: engine.options.dryRun)
        connections = Connections(connector: engine.connector)
        counter = PassCounter(dryRun: engine.options.dryRun)
        jobs = JobRunner(engine: engine, ledger: ledger, connections: connections, counter: counter, progress: progress)
        report.dryRun = engine.options.dryRun
    }

    mutating func run() async throws -> PassReport {
        let pass = try await begin()
        do {
            // Before anything runs: a daemon whose rules differ from the leader's must not act.
            let leading = try await leads()
            // Only now: a daemon refused for other rules must not have its locked rules remembered
            // (a stricter form kept in the shared state would then hold every other daemon's lock).
            if pass != nil {
                try await engine.wrap { () async throws(StateError) in try await state.remember(locked: engine.rules.rules, in: engine.stores, at: now) }
            }
            try await resumeOpenJobs()
            if leading { try await planAndRun() }
            report.stopped = engine.stopRequested()
            if let pass {
                try await state.finishPass(pass, at: engine.clock(), result: (report.stopped ? "stopped" : "done")
                                            + ": \(report.finished.count) jobs finished, \(report.waiting.count) waiting")
            }
        } catch {
            if let pass { try? await state.finishPass(pass, at: engine.clock(), result: "failed: \(error)") }
            await connections.closeAll()
            throw error
        }
        await connections.closeAll()
        return report
    }

    /// The checks before a pass acts: the audit key, the clock (recorded as the pass's start),
    /// the locks (remembered in `run`, once the rules are known to be the leader's). A dry run makes the checks that only read, and records nothing; nil then.
    private func begin() async throws -> Int64? {
        do { try await state.checkAuditKey() } catch {
            engine.logger.critical("\(error.message)")
            throw EngineError.state(error)
        }
        if ledger.dryRun {
            try await engine.checkLocks()
            return nil
        }
        let pass: Int64
        do { pass = try await state.beginPass(at: now, maximumGap: engine.options.maximumClockGap) } catch {
            engine.logger.critical("\(error.message)", metadata: ["event": "\(EngineEvent.clockRefused.rawValue)"])
            throw EngineError.state(error)
        }
        try await engine.checkLocks()
        return pass
    }

    /// Plans and runs what is due, dataset by dataset, while this daemon leads: a long job may
    /// outlast the lease, so each dataset's planning renews it first.
    private mutating func planAndRun() async throws {
        for policy in engine.policies {
            if engine.stopRequested() { return }
            try await createJobs(for: policy)
            guard try await leads() else { return }
        }
    }

    /// Whether this pass plans: always on a state of its own; on a shared one only while this
    /// daemon holds the planner's lease (taking it when free or expired). Refuses to go on when
    /// the live leader's rules differ from these. Planning stays correct without the lease (the
    /// state database refuses a second open job for one stage); the lease keeps daemons from
    /// counting the same datasets at once, and carries the rules digest.
    private func leads() async throws -> Bool {
        guard let shared = engine.sharedState else { return true }
        let digest = engine.rulesDigest
        let leadership = try await engine.wrap { () async throws(StateError) in try await shared.lead(rulesDigest: digest) }
        engine.roleChanged?(leadership.description)
        switch leadership {
        case .leader(let term, let elected):
            if elected {
                engine.logger.notice("elected leader (term \(term)) as \(shared.daemonID): this daemon plans",
                                     metadata: ["event": "\(EngineEvent.leaderElected.rawValue)", "lease": "elected", "term": "\(term)", "daemon": "\(shared.daemonID)"])
            }
            return true
        case .follower(let holder, let term, let theirs):
            guard theirs == digest else {
                let refusal = EngineError.rulesDiffer(mine: digest, leader: theirs, holder: holder, term: term)
                engine.logger.critical("\(refusal)", metadata: ["event": "\(EngineEvent.rulesDiffer.rawValue)", "lease": "rules-differ", "term": "\(term)", "daemon": "\(shared.daemonID)"])
                throw refusal
            }
            return false
        }
    }

    /// Jobs an earlier pass left waiting for a decision are reported again; those a crash or an
    /// earlier pass left running or planned are carried on.
    private mutating func resumeOpenJobs() async throws {
        let options = engine.options
        report.waiting = try await state.jobs(in: [.awaitingApproval]).filter { options.includes(store: $0.store, dataset: $0.dataset) }
        for job in try await state.jobs(in: [.running, .planned]) where options.includes(store: job.store, dataset: job.dataset) {
            if engine.stopRequested() { break }
            if job.unreadable == nil, job.state == .planned, job.notBefore > now {
                report.waiting.append(job)
                continue
            }
            add(try await jobs.run(job, at: now))
        }
    }

    private mutating func add(_ outcome: JobRunner.Outcome) {
        switch outcome {
        case .ended(let job):
            report.finished.append(job)
            ended.insert(job.id)
            if report.dryRun, job.state == .done { report.wouldPlan.append(entry(for: job)) }
        case .waiting(let job):
            report.waiting.append(job)
        case .elsewhere:
            break
        }
    }

    /// A job a dry run would carry out, as the plan entry `run --dry-run` shows.
    private func entry(for job: Job) -> PlanEntry {
        var entry = PlanEntry(store: job.store, dataset: job.dataset, rule: job.rule, stage: job.stage + 1, action: job.action,
                              cutoff: job.cutoff, due: job.doneCount, heldBy: nil, isViolation: job.isViolation)
        entry.kind = engine.rules[job.rule]?.kind ?? .purpose
        return entry
    }

    /// Creates the jobs one dataset's stages make due (unless one is still open for the stage),
    /// and runs those due now, in the order a pass acts.
    private mutating func createJobs(for policy: DatasetPolicy) async throws {
        let store = policy.store, dataset = policy.dataset
        let holds = try await state.holds()
        if let hold = holds.first(where: { $0.scope.covers(store: store.id, dataset: dataset.id) }) {
            report.heldDatasets.append((store.id, dataset.id, hold))
            if !ledger.dryRun {
                engine.logger.notice("hold #\(hold.id) on \(hold.scope) blocks every action on \(store.id)/\(dataset.id): \(hold.reason)",
                                     metadata: ["event": "\(EngineEvent.holdBlocked.rawValue)", "store": "\(store.id)", "dataset": "\(dataset.id)"])
            }
            return
        }
        let open = try await state.jobs(in: [.planned, .awaitingApproval, .running])
            .filter { $0.store == store.id && $0.dataset == dataset.id && !ended.contains($0.id) }
        let connection = try await connections.connection(to: store)
        try await engine.reportBadValues(of: policy, connection: connection)
        let excluded = policy.excluding(holds)
        for stage in policy.stages(at: now) where !open.contains(where: { stage.isSame(rule: $0.rule, stage: $0.stage, action: $0.action) }) {
            if engine.stopRequested() { return }
            guard let job = try await newJob(for: stage, policy: policy, excluded: excluded, connection: connection) else { continue }
            if job.state == .awaitingApproval || job.notBefore > now {
                report.waiting.append(job)
                continue
            }
            // A new job the runner leaves waiting (stopped, paused) is reported by the next pass.
            if case .ended(let ended) = try await jobs.run(job, at: now) { add(.ended(ended)) }
        }
    }
}
