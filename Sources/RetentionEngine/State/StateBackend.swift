package import Foundation

/// A `StateStore` as the CLI and the daemon open it: where it is, its audit chain's identity, and
/// what only an operator's command or the daemon asks of it — holds placed and released, the
/// clock accepted, the audit chain read and verified, whether anything ever happened. The engine
/// itself needs none of this (it reaches its state as a `StateStore`); both backends,
/// `StateDatabase` (SQLite) and `PostgresStateStore`, implement it.
///
/// Each requirement is one transaction, as in `StateStore`.
package protocol StateBackend: StateStore {
    /// The state database for messages: a file's path, or a URL without its password.
    var location: String { get }
    /// The id of the audit chain (`audit_chain.id`), which journal anchors name and MACs cover.
    var chainID: String { get }
    /// Whether this open created the state database (so it has no history).
    var created: Bool { get }

    // MARK: Holds

    /// Places a hold.
    func addHold(_ scope: Hold.Scope, reason: String, by who: String, at now: Date) async throws(StateError) -> Hold
    /// Releases a hold in force; false when there is none by that id. The row stays, for the record.
    func releaseHold(_ id: Int64, by who: String, at now: Date) async throws(StateError) -> Bool
    /// Holds in force, and released ones too when asked.
    func holds(includingReleased: Bool) async throws(StateError) -> [Hold]

    // MARK: Passes and the clock

    /// Whether anything ever happened here: a pass, a job, a hold, a locked rule, an audit record.
    func hasHistory() async throws(StateError) -> Bool
    /// The clock of the latest pass that acted, if any.
    func lastPassClock() async throws(StateError) -> Date?
    /// A person's word that the clock reads right at `now`; returns how many passes were set aside.
    func acceptClock(at now: Date, by who: String) async throws(StateError) -> Int
    /// When a person last accepted the clock, if ever.
    func lastClockAcceptance() async throws(StateError) -> Date?

    // MARK: The audit chain

    /// The audit chain, in order.
    func auditRecords() async throws(StateError) -> [AuditRecord]
    /// The last record as a head to note outside the machine; nil for an empty chain.
    func auditHead() async throws(StateError) -> AuditAnchor?
    /// The chain checked against itself, the jobs table, the audit key it was opened with (if
    /// any) and `anchors` (`AuditRecord.verify`).
    func verifyAudit(anchors: [AuditAnchor]) async throws(StateError) -> AuditReport

    /// Lets go of the server connection, if there is one (at the end of a command or a daemon);
    /// a later call would open a new one.
    func close() async
}

/// Whether opening may create the state database. A mistyped `--state` must not silently become
/// a new, empty state in which every hold and locked rule is gone.
package enum StateCreation: Sendable {
    /// It must exist (commands that act on an existing state).
    case refuse
    /// Create it if missing (`--init`, or the daemon's first start in its `StateDirectory=`).
    case ifMissing
}
