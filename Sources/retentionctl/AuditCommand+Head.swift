import ArgumentParser
import RetentionEngine

extension AuditCommand {
    /// `retentionctl audit head`: the chain's last record, to note outside the machine.
    struct Head: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the chain's last record as SEQUENCE:HASH, to keep outside this machine for 'audit verify --head'.")

        @OptionGroup var state: StateLocation

        func run() throws {
            let state = try self.state.open()
            guard let head = try state.auditHead() else {
                throw CommandFailure("the audit chain in \(state.path) is empty: no head yet")
            }
            print(head)
        }
    }
}
