import ArgumentParser

/// `retentionctl hold add|list|release`: legal holds.
struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Place, list and release legal holds: nothing under a hold is deleted, anonymized or restricted.",
        subcommands: [Add.self, List.self, Release.self]
    )
}
