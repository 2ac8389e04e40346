import ArgumentParser
import Foundation
import RetentionEngine

/// Where the state database is: `--state`, else `$RETENTIOND_STATE`, else the installed path.
struct StateLocation: ParsableArguments {
    @Option(name: .customLong("state"), help: "The state database (default $RETENTIOND_STATE or /var/lib/retentiond/state.sqlite).")
    var path: String?

    /// Opens the state database; says so when it was just created or has no history, since an
    /// empty past shown as if it were the real one (no holds, no jobs) misleads.
    ///
    /// With `key`, the records appended are sealed with the audit key derived from it
    /// (`AuditKey`), and `verifyAudit` checks the MACs; with `anchoring`, every record appended
    /// is also anchored in the journal.
    func open(creation: StateDatabase.Creation = .refuse, key: HMACKey? = nil, anchoring: Bool = false) throws(CommandFailure) -> StateDatabase {
        let path = StateDatabase.path(given: path)
        let anchor: (@Sendable (AuditAnchor) -> Void)? = anchoring ? { @Sendable in JournalAnchors.write($0) } : nil
        let state: StateDatabase
        do {
            state = try StateDatabase(path: path, creation: creation, auditKey: key.map { AuditKey(derivedFrom: $0) }, anchor: anchor)
        } catch {
            throw CommandFailure("state database \(error)")
        }
        if state.created {
            Output.error("retentionctl: created a new state database at \(path) (readable by its owner only)")
        } else if (try? state.hasHistory()) == false {
            Output.error("retentionctl: note: the state database \(path) has no history: no pass has run and no hold was placed. "
                         + "Is it the right one?")
        }
        return state
    }
}
