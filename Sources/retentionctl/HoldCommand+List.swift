import ArgumentParser
import Foundation
import RetentionEngine
import RetentionRules

extension HoldCommand {
    /// `retentionctl hold list`: the holds in force, or all of them.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List holds in force (--all: released ones too).")

        @OptionGroup var state: StateLocation

        @Flag(help: "Include released holds.")
        var all = false

        @Option(help: "table or json.")
        var format: OutputFormat = .table

        func run() async throws {
            let state = try await self.state.open()
            let holds = try await state.holds(includingReleased: all)
            if format == .json { try JSONOutput.print(holds.map(HoldView.init)); return }
            var table = TextTable(["id", "on", "reason", "by", "since", "released"])
            for hold in holds {
                table.add([String(hold.id), hold.scope.description, hold.reason, hold.createdBy, InstantText.format(hold.createdAt),
                           hold.releasedAt.map { InstantText.format($0) + " by " + (hold.releasedBy ?? "?") } ?? ""])
            }
            print(holds.isEmpty ? "no holds" : table.text)
        }
    }
}
