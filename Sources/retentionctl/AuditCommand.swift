import ArgumentParser
import Foundation
import RetentionEngine

/// `retentionctl audit verify|export`.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify and export the audit trail (one record per finished job, chained by SHA-256).",
        subcommands: [Verify.self, Export.self]
    )

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check that no audit record was altered, inserted or removed.")

        @OptionGroup var state: StateLocation

        func run() throws {
            let state = try self.state.open()
            let (count, problems) = try state.verifyAudit()
            for problem in problems { print(problem) }
            if problems.isEmpty {
                print("audit trail intact: \(count) records, chain verified")
            } else {
                print("audit trail BROKEN: \(problems.count) problem\(problems.count == 1 ? "" : "s") in \(count) records")
                throw ExitCode(1)
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the audit trail as JSON or CSV.")

        enum Format: String, ExpressibleByArgument { case json, csv }

        @OptionGroup var state: StateLocation

        @Option(help: "json or csv.")
        var format: Format = .json

        func run() throws {
            let state = try self.state.open()
            let records = try state.auditRecords()
            switch format {
            case .json: try printJSON(records)
            case .csv:
                let header = ["sequence", "job", "rule", "store", "dataset", "stage", "action", "outcome", "cutoff", "count",
                              "started_at", "finished_at", "keys_sha256", "previous_hash", "hash", "note"]
                let rows = records.map { r in
                    [String(r.sequence), String(r.job), r.rule, r.store, r.dataset, String(r.stage + 1), r.action, r.outcome, r.cutoff,
                     String(r.count), r.startedAt, r.finishedAt, r.keysSHA256, r.previousHash, r.hash, r.note ?? ""]
                }
                print(TextTable.csv(header, rows), terminator: "")
            }
        }
    }
}
