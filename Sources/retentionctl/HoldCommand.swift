import ArgumentParser
import Foundation
import RetentionEngine

/// `retentionctl hold add|list|release`: legal holds.
struct HoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Place, list and release legal holds: nothing under a hold is deleted, anonymized or restricted.",
        subcommands: [Add.self, List.self, Release.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hold a store, a dataset, or one record (by key).")

        @OptionGroup var state: StateLocation

        @Option(help: "The store.")
        var store: String

        @Option(help: "The dataset (omit to hold the whole store).")
        var dataset: String?

        @Option(help: "The record's key (omit to hold the whole dataset).")
        var key: String?

        @Option(help: "Why: a case number or reference (required).")
        var reason: String

        @Option(help: "Who places it (default $SUDO_USER or $USER).")
        var by: String?

        func validate() throws {
            if key != nil && dataset == nil { throw ValidationError("--key needs --dataset") }
            if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason must say why") }
        }

        func run() throws {
            let state = try self.state.open()
            let scope: Hold.Scope = if let dataset, let key {
                .record(store: store, dataset: dataset, key: RecordKey(parsing: key))
            } else if let dataset {
                .dataset(store: store, dataset: dataset)
            } else {
                .store(store)
            }
            let hold = try state.addHold(scope, reason: reason, by: by ?? EngineOptions().actor, at: Date())
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
                struct View: Encodable { var id: Int64; var scope: String; var reason: String; var created_by: String; var created_at: String; var released_at: String?; var released_by: String? }
                try printJSON(holds.map { View(id: $0.id, scope: $0.scope.description, reason: $0.reason, created_by: $0.createdBy,
                                               created_at: TimeText.iso($0.createdAt), released_at: $0.releasedAt.map(TimeText.iso), released_by: $0.releasedBy) })
                return
            }
            var table = TextTable(["id", "on", "reason", "by", "since", "released"])
            for hold in holds {
                table.add([String(hold.id), hold.scope.description, hold.reason, hold.createdBy, TimeText.iso(hold.createdAt),
                           hold.releasedAt.map { TimeText.iso($0) + " by " + (hold.releasedBy ?? "?") } ?? ""])
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
