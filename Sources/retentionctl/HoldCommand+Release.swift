import ArgumentParser
import Foundation
import RetentionEngine

extension HoldCommand {
    /// `retentionctl hold release`: ends a hold, which stays on record.
    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Release a hold; it stays listed with --all.")

        @OptionGroup var state: StateLocation

        @Option(help: "Who releases it (default $SUDO_USER or $USER).")
        var by: String?

        @Argument(help: "The hold's id.")
        var id: Int64

        func run() async throws {
            let state = try await self.state.open()
            guard try await state.releaseHold(id, by: by ?? EngineOptions().actor, at: Date()) else {
                throw CommandFailure("no hold #\(id) in force (retentionctl hold list --all)")
            }
            print("hold #\(id) released")
        }
    }
}
