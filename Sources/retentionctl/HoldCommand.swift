import ArgumentParser
import Foundation
import RetentionEngine
import RetentionRules

/// `retentionctl hold add|list|release`: legal holds.
struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Place, list and release legal holds: nothing under a hold is deleted, anonymized or restricted.",
        subcommands: [Add.self, List.self, Release.self]
    )

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
            let engine = try setup.engine()
            let scope: Hold.Scope
            do {
                _ = try engine.dataset(store: store, dataset: dataset)
                if let dataset, let key {
                    let lookup = try await engine.lookUp(store: store, dataset: dataset, typed: key)
                    if lookup.found == .nothing && !notYetStored {
                        Output.error("retentionctl: hold add: no record with key \(lookup.key.typedDescription) (\(lookup.type) key) in \(store)/\(dataset); "
                                     + "check the key, or give --not-yet-stored to hold it for when it is stored")
                        throw ExitCode(1)
                    }
                    scope = .record(store: store, dataset: dataset, key: lookup.key)
                    if lookup.found == .directory { print("\(KeyText.quoted(lookup.key.description)) is a directory: every file below it is held") }
                } else if let dataset {
                    scope = .dataset(store: store, dataset: dataset)
                } else {
                    scope = .store(store)
                }
            } catch let error as ExitCode {
                throw error
            } catch {
                Output.error("retentionctl: hold add: \(error)")
                throw ExitCode(1)
            }
            let hold = try engine.state.addHold(scope, reason: reason, by: by ?? EngineOptions().actor, at: Date())
            print("hold #\(hold.id) placed on \(hold.scope): \(hold.reason)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List holds in force (--all: released ones too).")

        @OptionGroup var state: StateLocation

        @Flag(help: "Include released holds.")
        var all = false

        @Option(help: "table or json.")
        var format: OutputFormat = .table

        func run() throws {
            let state = try self.state.open()
            let holds = try state.holds(includingReleased: all)
            if format == .json {
                struct View: Encodable {
                    var id: Int64; var scope: String; var store: String; var dataset: String?
                    /// The key in its type: a JSON number for an integer key, a string for text.
                    var key: RecordKey?; var key_type: String?
                    var reason: String; var created_by: String; var created_at: String; var released_at: String?; var released_by: String?
                }
                try printJSON(holds.map { hold in
                    var dataset: String?, key: RecordKey?
                    switch hold.scope {
                    case .store: break
                    case .dataset(_, let d): dataset = d
                    case .record(_, let d, let k): (dataset, key) = (d, k)
                    }
                    let type: String? = key.map { if case .integer = $0 { "integer" } else { "text" } }
                    return View(id: hold.id, scope: hold.scope.description, store: hold.scope.store, dataset: dataset, key: key, key_type: type,
                                reason: hold.reason, created_by: hold.createdBy, created_at: InstantText.format(hold.createdAt),
                                released_at: hold.releasedAt.map(InstantText.format), released_by: hold.releasedBy)
                })
                return
            }
            var table = TextTable(["id", "on", "reason", "by", "since", "released"])
            for hold in holds {
                table.add([String(hold.id), hold.scope.description, hold.reason, hold.createdBy, InstantText.format(hold.createdAt),
                           hold.releasedAt.map { InstantText.format($0) + " by " + (hold.releasedBy ?? "?") } ?? ""])
            }
            print(holds.isEmpty ? "no holds" : table.text)
        }
    }

    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Release a hold; it stays listed with --all.")

        @OptionGroup var state: StateLocation

        @Option(help: "Who releases it (default $SUDO_USER or $USER).")
        var by: String?

        @Argument(help: "The hold's id.")
        var id: Int64

        func run() throws {
            let state = try self.state.open()
            guard try state.releaseHold(id, by: by ?? EngineOptions().actor, at: Date()) else {
                Output.error("retentionctl: no hold #\(id) in force (retentionctl hold list --all)")
                throw ExitCode(1)
            }
            print("hold #\(id) released")
        }
    }
}
