import ArgumentParser
import Foundation
import PostgresState
import RetentionEngine

/// Where the state database is: `--state`, else `$RETENTIOND_STATE`, else the installed path. A
/// `postgresql://` URL names a PostgreSQL state database (`PostgresStateStore`).
struct StateLocation: ParsableArguments {
    @Option(name: .customLong("state"), help: ArgumentHelp(
        "The state database: a SQLite file, or postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=…] (default $RETENTIOND_STATE or /var/lib/retentiond/state.sqlite).",
        valueName: "file-or-url"))
    var path: String?

    @Option(name: .customLong("state-password-file"),
            help: "File holding the PostgreSQL state database's password (default: the credential 'state-postgres-password', else 'postgres-password').")
    var passwordFile: String?

    /// What messages call the state database: its path, or its URL without secrets.
    var location: String { StateBackends.location(given: path) }

    /// Opens the state database; says so when it was just created or has no history, since an
    /// empty past shown as if it were the real one (no holds, no jobs) misleads.
    ///
    /// With `key`, the records appended are sealed with the audit key derived from it
    /// (`AuditKey`), and `verifyAudit` checks the MACs; with `anchoring`, every record appended
    /// is also anchored in the journal.
    func open(creation: StateCreation = .refuse, key: HMACKey? = nil, anchoring: Bool = false) async throws(CommandFailure) -> any StateBackend {
        let anchor: (@Sendable (AuditAnchor) -> Void)? = anchoring ? { @Sendable in JournalAnchors.write($0) } : nil
        let state: any StateBackend
        do {
            state = try await StateBackends.open(location, passwordFile: passwordFile, creation: creation,
                                                 auditKey: key.map { AuditKey(derivedFrom: $0) }, anchor: anchor)
        } catch {
            throw CommandFailure("state database \(error)")
        }
        OpenedStates.shared.add(state)
        if state.created {
            Output.error("retentionctl: created a new state database at \(state.location)\(state is StateDatabase ? " (readable by its owner only)" : "")")
        } else if (try? await state.hasHistory()) == false {
            Output.error("retentionctl: note: the state database \(state.location) has no history: no pass has run and no hold was placed. "
                         + "Is it the right one?")
        }
        return state
    }
}
