package import Foundation
package import Logging
package import RetentionRules

/// Evaluates the rules against the stores and carries out the jobs, one pass at a time.
///
/// The engine owns no long-lived state: what must survive a crash is in its `StateStore` (a
/// SQLite `StateDatabase` or a `PostgresStateStore`), written before data is touched, and every
/// batch is re-checked against the store. Its work is split by responsibility: a `PassRunner` finishes open jobs and creates new
/// ones, a `JobRunner` carries one job out, and the forecast (`plan(at:horizon:)`,
/// `nextWake(after:)`) only reads.
package struct Engine: Sendable {
    package var rules: RuleSet
    package var stores: StoreSet
    /// The state database. The engine reaches it only as a `StateStore` (`stateStore`); the CLI
    /// and the daemon also ask it what only an operator needs (`StateBackend`: holds placed, the
    /// clock accepted, the audit chain verified).
    package var state: any StateBackend
    package var connector: any StoreConnector
    package var options: EngineOptions
    package var logger: Logger
    /// The wall clock, for start and end times (the pass's `now` may be simulated by `plan --at`).
    var clock: @Sendable () -> Date = { Date() }
    /// Asked before every batch and between jobs: when it says true, the pass stops there and
    /// leaves the running job to be resumed by the next pass (a daemon's graceful shutdown).
    package var stopRequested: @Sendable () -> Bool = { false }
    /// Told during a pass while a store call is still waiting within its own bounds (a command
    /// store's program running within its timeout), at least every `StoreHeartbeat.interval`: a
    /// daemon's watchdog counts it as progress, as it counts finished batches.
    package var heartbeat: (@Sendable () -> Void)?
    /// Told, on a shared state, what this daemon is now: `leader, term 7`, `follower of host-b:812,
    /// term 7`, `running job 12` (a daemon's `STATUS=`).
    package var roleChanged: (@Sendable (String) -> Void)?

    package init(rules: RuleSet, stores: StoreSet, state: any StateBackend, connector: any StoreConnector,
                options: EngineOptions = EngineOptions(), logger: Logger = Logger(label: "retentiond")) {
        self.rules = rules
        self.stores = stores
        self.state = state
        self.connector = connector
        self.options = options
        self.logger = logger
    }

    /// What the engine needs of its state, and all it uses of it: passes, jobs, the forecast and
    /// the lock check go through this seam, which another state backend implements.
    var stateStore: any StateStore { state }

    /// The state as several daemons share it, when it is shared (nil for SQLite, and in a dry
    /// run, which claims and plans nothing).
    var sharedState: (any SharedState)? { options.dryRun ? nil : state as? any SharedState }

    /// The fingerprint of the rules as they decide planning (`RulesDigest`).
    package var rulesDigest: String { RulesDigest.of(rules, stores: stores) }

    /// The datasets the options select, with their policies.
    package var policies: [DatasetPolicy] {
        stores.stores.flatMap { store in
            store.datasets.filter { options.includes(store: store.id, dataset: $0.id) }
                .map { DatasetPolicy(store: store, dataset: $0, rules: rules) }
        }
    }

    /// Refuses rules or stores that shorten, narrow, unbind or remove a rule the state database
    /// remembers as locked.
    package func checkLocks() async throws(EngineError) {
        let problems = RuleLocks.violations(of: try await wrap { () async throws(StateError) in try await stateStore.lockedRules() },
                                            by: rules, stores: stores)
        if !problems.isEmpty { throw .lockedRules(problems) }
    }

    /// One pass: finish what a crash left behind, then plan and run what is due at `now`. With
    /// `options.dryRun` the pass makes the same decisions and writes nothing (see `PassRunner`).
    ///
    /// `progress` is told after every batch (for a terminal display).
    package func runPass(at now: Date, progress: @escaping @Sendable (Job) -> Void = { _ in }) async throws -> PassReport {
        try await StoreHeartbeat.$observer.withValue(heartbeat.map(StoreHeartbeat.Observer.init)) { try await pass(at: now, progress: progress) }
    }

    private func pass(at now: Date, progress: @escaping @Sendable (Job) -> Void) async throws -> PassReport {
        var runner = PassRunner(engine: self, now: now, progress: progress)
        return try await runner.run()
    }

    func wrap<T>(_ body: () async throws(StateError) -> T) async throws(EngineError) -> T {
        do { return try await body() } catch { throw .state(error) }
    }
}
