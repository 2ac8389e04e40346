import Foundation
import RetentionEngine

/// What the daemon was told on its command line.
struct DaemonSettings: Sendable {
    var rulesPaths: [String]
    var storesPaths: [String]
    /// A SQLite file, or a postgresql:// URL (`StateBackends`).
    var statePath: String
    /// Whether a missing state database may be created (`--init`, or the daemon's own `StateDirectory=`).
    var stateCreation: StateCreation
    var hmacKeyPath: String?
    var postgresPasswordFile: String?
    /// The longest sleep between passes, whatever the stores say.
    var interval: Duration
    var once: Bool
    /// Seconds the wall clock may run ahead of the boot-time clock while the daemon runs.
    var maximumClockJump: TimeInterval
    var options: EngineOptions
    /// `--state-password-file`, for a PostgreSQL state database.
    var statePasswordFile: String? = nil
    /// `--daemon-id`: who this daemon is to others sharing a PostgreSQL state (default `host:pid`).
    var daemonID: String? = nil
    /// `--lease-duration`: how long the planner's lease and a job's claim last unrenewed on a
    /// shared state; such a daemon also passes at least every half lease (`PassService`).
    var lease: Duration = .seconds(30)
}
