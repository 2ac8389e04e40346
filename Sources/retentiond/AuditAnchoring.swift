import Foundation
import Logging
import RetentionEngine
import Synchronization
import Systemd

/// Writes each audit record's anchor to the journal, whatever the log target and level: it is the
/// copy of the chain that a rewrite of the state database cannot reach.
enum AuditAnchoring {
    static func write(_ anchor: AuditAnchor, logger: Logger) {
        let fields: [(name: String, value: String)] = [
            ("MESSAGE", "audit record \(anchor.sequence) appended: chain hash \(anchor.hash)"),
            ("PRIORITY", String(JournalLogHandler.priority(.info))),
            ("SYSLOG_IDENTIFIER", Retentiond.identifier),
            ("MESSAGE_ID", MessageIDs.byEvent[.auditAppended]!),
            ("EVENT", EngineEvent.auditAppended.rawValue),
        ] + anchor.fields
        let result = Journal.send(fields)
        guard result < 0 else { return }
        // A warning the first time (a daemon in a terminal has no journal); each head at debug level.
        let message: Logger.Message = "audit record \(anchor.sequence) is not anchored in the journal (\(String(cString: strerror(-result)))); its head is \(anchor)"
        if unanchoredWarned.exchange(true, ordering: .relaxed) {
            logger.debug(message)
        } else {
            logger.warning("\(message); later records not anchored either are logged at debug level")
        }
    }

    private static let unanchoredWarned = Atomic<Bool>(false)
}
