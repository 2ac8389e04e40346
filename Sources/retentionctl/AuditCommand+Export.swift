import ArgumentParser
import RetentionEngine

extension AuditCommand {
    /// `retentionctl audit export`: the trail for an auditor.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the audit trail as JSON or CSV.")

        enum Format: String, ExpressibleByArgument { case json, csv }

        @OptionGroup var state: StateLocation

        @Option(help: "json or csv.")
        var format: Format = .json

        func run() async throws {
            let state = try await self.state.open()
            let records = try await state.auditRecords().map(AuditRecordView.init)
            switch format {
            case .json: try JSONOutput.print(records)
            case .csv:
                print(TextTable.csv(AuditRecordView.csvHeader, records.map(\.csvRow)), terminator: "")
            }
        }
    }
}
