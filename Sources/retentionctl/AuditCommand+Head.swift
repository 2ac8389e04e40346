import ArgumentParser
import RetentionEngine

extension AuditCommand {
    /// `retentionctl audit head`: the chain's last record, to note outside the machine.
    struct Head: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the chain's last record as SEQUENCE:HASH, to keep outside this machine for 'audit verify --head'.")

        @OptionGroup var state: StateLocation

        func run() async throws {
            let state = try await self.state.open()
            guard let head = try await state.auditHead() else {
                throw CommandFailure("the audit chain in \(state.location) is empty: no head yet")
            }
            print(head)
        }
    }
}
