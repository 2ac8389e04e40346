public import Foundation
public import Logging
public import RetentionRules

/// Evaluates the rules against the stores and carries out the jobs, one pass at a time.
///
/// The engine owns no long-lived state: what must survive a crash is in the `StateDatabase`,
/// written before data is touched, and every batch is re-checked against the store.
public struct Engine: Sendable {
    public var rules: RuleSet
    public var stores: StoreSet
    public var state: StateDatabase
    public var connector: any StoreConnector
    public var options: EngineOptions
    public var logger: Logger
    /// The wall clock, for start and end times (the pass's `now` may be simulated by `plan --at`).
    public var clock: @Sendable () -> Date = { Date() }
    /// Asked before every batch and between jobs: when it says true, the pass stops there and
    /// leaves the running job to be resumed by the next pass (a daemon's graceful shutdown).
    public var stopRequested: @Sendable () -> Bool = { false }
    /// Told during a pass while a store call is still waiting within its own bounds (a command
    /// store's program running within its timeout), at least every `StoreHeartbeat.interval`: a
    /// daemon's watchdog counts it as progress, as it counts finished batches.
    public var heartbeat: (@Sendable () -> Void)?

    public init(rules: RuleSet, stores: StoreSet, state: StateDatabase, connector: any StoreConnector,
                options: EngineOptions = EngineOptions(), logger: Logger = Logger(label: "retentiond")) {
        self.rules = rules
        self.stores = stores
        self.state = state
        self.connector = connector
        self.options = options
        self.logger = logger
    }

    /// The datasets the options select, with their policies.
    public var policies: [DatasetPolicy] {
        stores.stores.flatMap { store in
            store.datasets.filter { options.includes(store: store.id, dataset: $0.id) }
                .map { DatasetPolicy(store: store, dataset: $0, rules: rules) }
        }
    }

    /// Refuses rules or stores that shorten, narrow, unbind or remove a rule the state database
    /// remembers as locked.
    public func checkLocks() throws(EngineError) {
        let problems = RuleLocks.violations(of: try wrap { () throws(StateError) in try state.lockedRules() }, by: rules, stores: stores)
        if !problems.isEmpty { throw .lockedRules(problems) }
    }

    func wrap<T>(_ body: () throws(StateError) -> T) throws(EngineError) -> T {
        do { return try body() } catch { throw .state(error) }
    }

    func metadata(_ event: EngineEvent, _ job: Job) -> Logger.Metadata {
        ["event": "\(event.rawValue)", "rule": "\(job.rule)", "store": "\(job.store)", "dataset": "\(job.dataset)",
         "job_id": "\(job.id)", "action": "\(job.action.rawValue)", "stage": "\(job.stage + 1)",
         "count": "\(job.state == .planned || job.state == .awaitingApproval ? job.plannedCount : job.doneCount)",
         "cutoff": "\(TimeText.iso(job.cutoff))"]
    }
}

/// Why a pass could not run.
public enum EngineError: Error, Sendable, CustomStringConvertible {
    case state(StateError)
    case lockedRules([String])

    public var description: String {
        switch self {
        case .state(let error): error.description
        case .lockedRules(let problems):
            "refusing the rules: they weaken locked rules the state database remembers:\n  " + problems.joined(separator: "\n  ")
        }
    }
}

// MARK: - A pass

/// What one pass did.
public struct PassReport: Sendable {
    /// Jobs that ran to the end in this pass (done or failed).
    public var finished: [Job] = []
    /// Jobs left waiting, planned in this pass or before: for approval, for their grace window, behind a hold.
    public var waiting: [Job] = []
    /// In a dry run: what would be planned.
    public var wouldPlan: [PlanEntry] = []
    /// Erasures an obligation defers (the records restricted meanwhile where the store can).
    public var deferred: [DeferredErasure] = []
    /// Datasets skipped because of a hold on them or their store.
    public var heldDatasets: [(store: String, dataset: String, hold: Hold)] = []
    /// The pass stopped early because `stopRequested` said so.
    public var stopped = false
}

extension Engine {
    /// One pass: finish what a crash left behind, then plan and run what is due at `now`.
    ///
    /// `progress` is told after every batch (for a terminal display).
    public func runPass(at now: Date, progress: @Sendable (Job) -> Void = { _ in }) async throws -> PassReport {
        try await StoreHeartbeat.$observer.withValue(heartbeat) { try await pass(at: now, progress: progress) }
    }

    private func pass(at now: Date, progress: @Sendable (Job) -> Void) async throws -> PassReport {
        if options.dryRun {
            var report = PassReport()
            report.wouldPlan = try await plan(at: now).entries.filter { $0.due > 0 }
            return report
        }
        do { try state.checkAuditKey() } catch {
            logger.critical("\(error.message)")
            throw EngineError.state(error)
        }
        let passID: Int64
        do { passID = try state.beginPass(at: now, maximumGap: options.maximumClockGap) } catch {
            logger.critical("\(error.message)", metadata: ["event": "\(EngineEvent.clockRefused.rawValue)"])
            throw EngineError.state(error)
        }
        try checkLocks()
        try wrap { () throws(StateError) in try state.remember(locked: rules.rules, in: stores, at: now) }

        var report = PassReport()
        var connections = Connections(connector: connector)
        do {
            // Jobs an earlier pass left for a decision still wait: say so, as the new ones are.
            report.waiting = try state.jobs(in: [.awaitingApproval]).filter { options.includes(store: $0.store, dataset: $0.dataset) }
            // What a crash or an earlier pass left open comes first, in the order it was planned.
            for var job in try state.jobs(in: [.running, .planned]) where options.includes(store: job.store, dataset: job.dataset) {
                if stopRequested() { break }
                if let problem = job.unreadable {
                    report.finished.append(try fail(&job, reason: problem))
                    continue
                }
                if job.state == .planned, job.notBefore > now {
                    report.waiting.append(job)
                    continue
                }
                if let finished = try await run(job, at: now, connections: &connections, progress: progress) {
                    report.finished.append(finished)
                } else if let waiting = try state.job(job.id) {
                    report.waiting.append(waiting)
                }
            }
            for policy in policies where !stopRequested() {
                try await plan(policy, at: now, connections: &connections, report: &report, progress: progress)
            }
            report.stopped = stopRequested()
            try state.finishPass(passID, at: clock(), result: (report.stopped ? "stopped" : "done") + ": \(report.finished.count) jobs finished, \(report.waiting.count) waiting")
        } catch {
            try? state.finishPass(passID, at: clock(), result: "failed: \(error)")
            await connections.closeAll()
            throw error
        }
        await connections.closeAll()
        return report
    }

    func plan(_ policy: DatasetPolicy, at now: Date, connections: inout Connections, report: inout PassReport,
              progress: @Sendable (Job) -> Void) async throws {
        let store = policy.store, dataset = policy.dataset
        let holds = try state.holds()
        if let hold = holds.first(where: { $0.scope.covers(store: store.id, dataset: dataset.id) }) {
            report.heldDatasets.append((store.id, dataset.id, hold))
            logger.notice("hold #\(hold.id) on \(hold.scope) blocks every action on \(store.id)/\(dataset.id): \(hold.reason)",
                          metadata: ["event": "\(EngineEvent.holdBlocked.rawValue)", "store": "\(store.id)", "dataset": "\(dataset.id)"])
            return
        }
        let open = try state.jobs(in: [.planned, .awaitingApproval, .running]).filter { $0.store == store.id && $0.dataset == dataset.id }
        try await reportBadValues(of: policy, connection: try await connections.connection(to: store))
        let excluded = Self.excluding(holds, in: policy)
        // In the order a pass acts: anonymize and restrict, then erasures, then other deletions.
        for stage in policy.stages(at: now) where !open.contains(where: { stage.isSame(rule: $0.rule, stage: $0.stage, action: $0.action) }) {
            if stopRequested() { return }
            let connection = try await connections.connection(to: store)
            let predicate = stage.predicate && excluded
            let due = try await connection.count(dataset, where: predicate)
            var note: String?
            if let deferral = stage.deferral {
                note = try await reportDeferral(of: stage, deferral, restricting: due, policy: policy, connection: connection,
                                                excluded: excluded, report: &report)
            }
            guard due > 0 else { continue }
            let total = stage.action == .delete ? try await connection.total(dataset) : nil
            var job = Job(id: 0, store: store.id, dataset: dataset.id, rule: stage.rule.id, stage: stage.stageIndex, action: stage.action,
                          isViolation: stage.isViolation, cutoff: stage.cutoff, predicate: stage.predicate, state: .planned,
                          plannedAt: now, notBefore: now, plannedCount: due, datasetTotal: total, doneCount: 0, keysDigest: KeyDigest(),
                          note: note)
            job.reason = approvalReason(for: stage, due: due, total: total, dataset: dataset)
            if job.reason != nil { job.state = .awaitingApproval }
            if let grace = dataset.limits.grace, !grace.isZero {
                job.notBefore = stage.rule.calendar.due(after: grace, from: now)
            }
            if let deadline = try await earliestDeadline(of: stage, policy: policy, connection: connection, predicate: predicate) {
                if let overdue = stage.overdue, case let late = try await connection.count(dataset, where: overdue && excluded), late > 0,
                   let oldest = try await earliestDeadline(of: stage, policy: policy, connection: connection, predicate: overdue && excluded) {
                    logger.warning("rule \(stage.rule.id) on \(store.id)/\(dataset.id): \(late) records are past their deadline of \(stage.rule.deadline!) (the oldest since \(TimeText.iso(oldest)))",
                                   metadata: ["event": "\(EngineEvent.deadlineMissed.rawValue)", "rule": "\(stage.rule.id)",
                                              "store": "\(store.id)", "dataset": "\(dataset.id)", "count": "\(late)"])
                }
                // A deadline always wins over the grace window.
                job.notBefore = max(now, min(job.notBefore, deadline))
            }
            job = try state.insert(job)
            if job.isViolation {
                logger.error("retain-none violation: \(due) records of \(store.id)/\(dataset.id) exist although rule \(job.rule) says they must never be stored; deleting them",
                             metadata: metadata(.retainNoneViolation, job))
            }
            if job.state == .awaitingApproval {
                logger.warning("job \(job.id) waits for approval: \(job.reason!)", metadata: metadata(.approvalNeeded, job))
                report.waiting.append(job)
                continue
            }
            logger.info("job \(job.id) planned: \(job.action.rawValue) \(due) records of \(store.id)/\(dataset.id) under rule \(job.rule) (cutoff \(TimeText.iso(job.cutoff)))",
                        metadata: metadata(.jobPlanned, job))
            if job.notBefore > now {
                report.waiting.append(job)
                continue
            }
            if let finished = try await run(job, at: now, connections: &connections, progress: progress) {
                report.finished.append(finished)
            }
        }
    }

    /// Why a job must wait for `retentionctl approve`, if it must.
    func approvalReason(for stage: PlannedStage, due: Int, total: Int?, dataset: Dataset) -> String? {
        if stage.rule.review == .required {
            return "rule \(stage.rule.id) requires review before it acts (review: required)"
        }
        guard stage.action == .delete, let total, total > 0 else { return nil }
        let share = dataset.limits.maxDeleteShare ?? options.maxDeleteShare
        if let limit = dataset.limits.maxDeleteCount ?? options.maxDeleteCount, due > limit {
            return "would delete \(due) records of \(dataset.id), more than the guard's \(limit)"
        }
        if Double(due) > share * Double(total) {
            let percent = (Double(due) / Double(total) * 1000).rounded() / 10
            return "would delete \(due) of \(total) records of \(dataset.id) (\(percent)%), more than the guard's \(Int((share * 100).rounded()))%"
        }
        return nil
    }

    /// The earliest deadline among the records a stage makes due, for rules with a deadline.
    func earliestDeadline(of stage: PlannedStage, policy: DatasetPolicy, connection: any StoreConnection,
                          predicate: RecordPredicate) async throws -> Date? {
        guard stage.rule.deadline != nil else { return nil }
        var earliest: Date?
        for column in policy.columns(stage.rule.anchor) {
            if let anchor = try await connection.earliest(policy.dataset, column: column, where: predicate && .representable(column)) {
                earliest = min(earliest ?? anchor, anchor)
            }
        }
        return earliest.flatMap { stage.rule.deadline(anchor: $0) }
    }

    /// Record holds of a dataset, as a predicate.
    static func excluding(_ holds: [Hold], in policy: DatasetPolicy) -> RecordPredicate {
        let keys: [RecordKey] = holds.compactMap {
            if case .record(let store, let dataset, let key) = $0.scope, store == policy.store.id, dataset == policy.dataset.id { return key }
            return nil
        }
        return keys.isEmpty ? .always : .keyNotIn(column: policy.keyColumn, keys: keys)
    }
}

/// The connections of one pass, opened on first use.
struct Connections: Sendable {
    let connector: any StoreConnector
    var open: [String: any StoreConnection] = [:]

    init(connector: any StoreConnector) {
        self.connector = connector
    }

    mutating func connection(to store: Store) async throws -> any StoreConnection {
        if let connection = open[store.id] { return connection }
        let connection = try await connector.connect(to: store)
        open[store.id] = connection
        return connection
    }

    mutating func closeAll() async {
        for connection in open.values { await connection.close() }
        open = [:]
    }
}
