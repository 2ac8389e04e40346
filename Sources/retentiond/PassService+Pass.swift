import Foundation
import Logging
import PostgresState
import RetentionEngine
import RetentionRules

extension PassService {
    /// One pass on the engine in force; its errors are logged, never fatal to the daemon.
    func pass() async {
        liveness.setIdle(false)
        let engine = self.engine.current
        guard await clockGuard.isTrusted(engine.state) else {
            status.passEnded("refusing to act: the clock jumped ahead at \(DaemonStatus.clock(Date()))")
            flags.markFailed()
            return
        }
        let liveness = self.liveness
        let started = Date()
        do {
            let report = try await engine.runPass(at: Date()) { _ in liveness.beat() }
            if settings.options.dryRun { logWouldDo(report) }
            let failed = report.finished.filter { $0.state == .failed }.count
            let summary = Self.summary(of: report, dryRun: settings.options.dryRun)
            status.passEnded("last pass \(DaemonStatus.clock(started)) \(summary)")
            logger.info("pass \(summary) in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
            if failed > 0 { flags.markFailed() }
        } catch {
            status.passEnded("last pass \(DaemonStatus.clock(started)) failed")
            logger.error("pass failed: \(error)")
            if engine.state is any SharedState, Self.isStateLoss(error) {
                let retry = Int(Self.longestSleep(settings, shared: true))
                logger.error("the shared state database does not answer: this daemon acts no more (its claims run out and other daemons take its jobs over) and tries again in \(retry) s",
                             metadata: ["lease": "unreachable", "state": "\(engine.state.location)"])
            }
            flags.markFailed()
        }
    }

    /// Whether a pass failed because the state database could not be reached or dropped the
    /// connection (not for a refusal of its own: other rules, a clock, a fence).
    static func isStateLoss(_ error: any Error) -> Bool {
        let stateError: StateError? = switch error {
        case let error as StateError: error
        case EngineError.state(let error): error
        default: nil
        }
        return stateError.map(PostgresStateStore.isOutOfReach) ?? false
    }

    /// What a pass did, in a few words: for the log and `STATUS=`.
    static func summary(of report: PassReport, dryRun: Bool) -> String {
        if dryRun { return "dry run: \(report.wouldPlan.count) jobs would run" }
        let failed = report.finished.filter { $0.state == .failed }.count
        let records = report.finished.filter { $0.state == .done }.reduce(0) { $0 + $1.doneCount }
        return "\(report.stopped ? "stopped" : "done"): \(report.finished.count) jobs, \(records) records"
            + "\(failed > 0 ? ", \(failed) failed" : ""), \(report.waiting.count) waiting"
    }

    func logWouldDo(_ report: PassReport) {
        for entry in report.wouldPlan {
            logger.info("dry run: would \(entry.action.rawValue) \(entry.due) records of \(entry.store)/\(entry.dataset) under rule \(entry.rule) (cutoff \(InstantText.format(entry.cutoff)))",
                        metadata: ["rule": "\(entry.rule)", "store": "\(entry.store)", "dataset": "\(entry.dataset)", "action": "\(entry.action.rawValue)",
                                   "stage": "\(entry.stage)", "count": "\(entry.due)", "cutoff": "\(InstantText.format(entry.cutoff))"])
        }
    }
}
