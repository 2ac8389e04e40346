import ArgumentParser
import RetentionEngine

extension AuditCommand {
    /// `retentionctl audit export`: the trail for an auditor.
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
            case .json: try JSONOutput.print(records)
            case .csv:
                let header = ["sequence", "job", "rule", "store", "dataset", "stage", "action", "outcome", "cutoff", "count",
                              "started_at", "finished_at", "keys_sha256", "previous_hash", "hash", "note", "mac"]
                let rows = records.map { r in
                    [String(r.sequence), String(r.job), r.rule, r.store, r.dataset, String(r.stage + 1), r.action, r.outcome, r.cutoff,
                     String(r.count), r.startedAt, r.finishedAt, r.keysSHA256, r.previousHash, r.hash, r.note ?? "", r.mac ?? ""]
                }
                print(TextTable.csv(header, rows), terminator: "")
            }
        }
    }
}
