import ArgumentParser
import Foundation
import RetentionEngine

extension HoldCommand {
    /// `retentionctl hold add`: a hold on a store, a dataset or one record, checked against the
    /// stores files and the store.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hold a store, a dataset, or one record (by key).",
            discussion: """
                Store and dataset must be in the stores files, and the record must be in the store: \
                a hold on a name that does not exist would protect nothing. The key is read in the key \
                column's type (an integer column takes only a plainly written number: 7, not 007); a \
                files store's key is a path relative to its root, and a directory holds every file below it.
                """
        )

        @OptionGroup var setup: EngineSetup

        @Option(help: "The store.")
        var store: String

        @Option(help: "The dataset (omit to hold the whole store).")
        var dataset: String?

        @Option(help: "The record's key (omit to hold the whole dataset; files: a path relative to the store, or a directory).")
        var key: String?

        @Flag(help: "Hold a record that is not in the store yet (its key is still checked against the key column's type).")
        var notYetStored = false

        @Option(help: "Why: a case number or reference (required).")
        var reason: String

        @Option(help: "Who places it (default $SUDO_USER or $USER).")
        var by: String?

        func validate() throws {
            if key != nil && dataset == nil { throw ValidationError("--key needs --dataset") }
            if notYetStored && key == nil { throw ValidationError("--not-yet-stored needs --key") }
            if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason must say why") }
        }

        func run() async throws {
            let engine = try await setup.engine()
            let scope = try await scope(in: engine)
            let hold = try await engine.state.addHold(scope, reason: reason, by: by ?? EngineOptions().actor, at: Date())
            print("hold #\(hold.id) placed on \(hold.scope): \(hold.reason)")
        }

        /// What the options name, once the stores files and the store say it exists.
        func scope(in engine: Engine) async throws(CommandFailure) -> Hold.Scope {
            let lookup: KeyLookup?
            do {
                _ = try engine.dataset(store: store, dataset: dataset)
                if let dataset, let key {
                    lookup = try await engine.lookUp(store: store, dataset: dataset, typed: key)
                } else {
                    lookup = nil
                }
            } catch {
                throw CommandFailure("hold add: \(error)")
            }
            guard let dataset else { return .store(store) }
            guard let lookup else { return .dataset(store: store, dataset: dataset) }
            if lookup.found == .nothing && !notYetStored {
                throw CommandFailure("hold add: no record with key \(lookup.key.typedDescription) (\(lookup.type) key) in \(store)/\(dataset); "
                                     + "check the key, or give --not-yet-stored to hold it for when it is stored")
            }
            if lookup.found == .directory { print("\(KeyText.quoted(lookup.key.description)) is a directory: every file below it is held") }
            return .record(store: store, dataset: dataset, key: lookup.key)
        }
    }
}
