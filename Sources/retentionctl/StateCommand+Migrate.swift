import ArgumentParser
import PostgresState
import RetentionEngine

extension StateCommand {
    /// `retentionctl state migrate`: a SQLite state database copied into PostgreSQL.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a SQLite state database into an empty PostgreSQL one.",
            discussion: """
                Copies every table in one PostgreSQL transaction: jobs with their ids, the batch in flight, \
                holds, passes, locked rules, and the audit chain with its hashes, MACs and id, so that \
                'retentionctl audit verify' passes on both sides under the same key and journal anchors. \
                The target's tables are created if it has none; a target that holds anything (a job, a \
                hold, a pass, a locked rule, an audit record) is refused, and nothing is copied. Stop \
                retentiond first: what it writes to the file after the copy is not in PostgreSQL. The file \
                is left as it was; point --state (or $RETENTIOND_STATE) at the URL afterwards.
                """
        )

        @Option(name: .customLong("from"), help: ArgumentHelp("The SQLite state database to copy.", valueName: "file"))
        var source: String

        @Option(name: .customLong("to"), help: ArgumentHelp("The PostgreSQL state database: postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=…].",
                                                          valueName: "url"))
        var target: String

        @Option(name: .customLong("state-password-file"),
                help: "File holding the target's password (default: the credential 'state-postgres-password', else 'postgres-password').")
        var passwordFile: String?

        func validate() throws {
            guard PostgresStateStore.isURL(target) else {
                throw ValidationError("--to must be a postgresql:// URL (the PostgreSQL state database to fill)")
            }
            guard !PostgresStateStore.isURL(source) else {
                throw ValidationError("--from must be a SQLite state database file")
            }
        }

        func run() async throws {
            let snapshot: StateSnapshot
            do { snapshot = try StateDatabase(path: source, creation: .refuse).snapshot() } catch {
                throw CommandFailure("state migrate: \(error)")
            }
            let store: PostgresStateStore
            do { store = try await PostgresStateStore.open(url: target, passwordFile: passwordFile, creation: .ifMissing) } catch {
                throw CommandFailure("state migrate: \(error)")
            }
            do { try await store.copy(snapshot) } catch {
                await store.close()
                throw CommandFailure("state migrate: \(error)")
            }
            await store.close()
            print("copied \(snapshot.summary) from \(source) to \(store.location); audit chain \(snapshot.chainID)")
        }
    }
}
