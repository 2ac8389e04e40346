import ArgumentParser
import Foundation
import RetentionEngine

/// `retentionctl cancel JOB…`
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel",
                                                    abstract: "Cancel jobs that have not started (in their grace window or awaiting approval).")

    @OptionGroup var state: StateLocation

    @Option(help: "Who cancels (default $SUDO_USER or $USER).")
    var by: String?

    @Option(name: .customLong("hmac-key"), help: "File holding the hmac-key, from which the audit key is derived (default: the systemd credential 'hmac-key'); a cancelled job is audited.")
    var hmacKeyPath: String?

    @Argument(help: "Job ids.")
    var jobs: [Int64]

    func run() async throws {
        let state = try await self.state.open(key: try HMACKey.load(path: hmacKeyPath), anchoring: true)
        try await JobDecisions.apply(to: jobs) { id in
            let job = try await state.cancel(id, by: by ?? EngineOptions().actor, at: Date())
            return "job \(job.id) cancelled"
        }
    }
}
