import ArgumentParser

/// `retentionctl state`: the state database itself, as a whole.
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Move the state database between backends.",
        discussion: """
            The state database holds jobs, the batch in flight, holds, passes, locked rules and the audit \
            chain. It is a SQLite file (the default, /var/lib/retentiond/state.sqlite) or a PostgreSQL \
            database, selected by --state postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=…] on every \
            command and on retentiond (or $RETENTIOND_STATE); its password comes from --state-password-file \
            or the credential 'state-postgres-password', else 'postgres-password'.
            """,
        subcommands: [Migrate.self]
    )
}
