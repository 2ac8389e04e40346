import Foundation
import Logging
import PostgresState
import RetentionEngine
import RetentionRules

extension RetentionDaemon {
    /// Everything that must work before the daemon says it is ready: the audit key, the state
    /// database (created on first start where that is allowed), the rules and stores. Each
    /// failure is logged, located where it can be, and thrown: there is nothing to fall back on.
    func start() async throws -> EngineInForce {
        let state = try await openState()
        return EngineInForce(try builder.makeEngine(try builder.loadConfiguration(reloading: false), state: state))
    }

    func openState() async throws -> any StateBackend {
        let key: HMACKey?
        do { key = try HMACKey.load(path: settings.hmacKeyPath) } catch {
            logger.critical("\(error)")
            throw error
        }
        if key == nil {
            logger.warning("no credential '\(HMACKey.credentialName)': audit records are appended without a MAC; rewritten with recomputed hashes, only their journal anchors would show it")
        }
        let state: any StateBackend
        do {
            state = try await StateBackends.open(settings.statePath, passwordFile: settings.statePasswordFile, creation: settings.stateCreation,
                                                 auditKey: key.map { AuditKey(derivedFrom: $0) }, daemonID: settings.daemonID, lease: settings.lease) { [logger] anchor in
                AuditAnchoring.write(anchor, logger: logger)
            }
        } catch {
            // The error names the database as a path or a URL without secrets, never the password.
            logger.critical("cannot open the state database: \(error)")
            throw error
        }
        if let shared = state as? any SharedState {
            logger.notice("the state database \(state.location) is shared: this daemon is \(shared.daemonID); one leader plans, each job runs in the daemon that claimed it",
                          metadata: ["daemon": "\(shared.daemonID)"])
        }
        if state.created {
            logger.notice("created a new state database at \(state.location): no holds, approvals or locked rules yet",
                          metadata: ["event": "\(EngineEvent.stateCreated.rawValue)", "state": "\(state.location)"])
        } else if (try? await state.hasHistory()) == false {
            logger.notice("the state database \(state.location) has no history: no pass has run and no hold was placed")
        }
        return state
    }
}
