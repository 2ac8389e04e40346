import ArgumentParser

/// `retentionctl audit verify|head|export`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify and export the audit trail (one record per finished job, chained by SHA-256, sealed with a key, anchored in the journal).",
        subcommands: [Verify.self, Head.self, Export.self]
    )
}
