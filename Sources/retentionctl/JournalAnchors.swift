import Foundation
import RetentionEngine
import Synchronization

/// The audit chain's anchors in the journal: written when retentionctl appends a record (`run`,
/// `cancel`), read back by `audit verify --journal` through `journalctl`, or from a saved export.
enum JournalAnchors {
    /// `MESSAGE_ID=` of the anchor entry; the same as the daemon's `audit-appended` id
    /// (Sources/retentiond/MessageIDs.swift, catalog/retentiond.catalog).
    static let messageID = "194cd2cea8c14da7ae13079264ecc13d"

    private static let warned = Mutex(false)

    /// Writes a record's anchor to the journal; a warning on stderr when there is no journal to
    /// write to (the record is then not anchored, and `audit verify --journal` will not find it).
    static func write(_ anchor: AuditAnchor) {
        let fields: [(name: String, value: String)] = [
            ("MESSAGE", "audit record \(anchor.sequence) appended: chain hash \(anchor.hash)"),
            ("PRIORITY", "6"),
            ("SYSLOG_IDENTIFIER", "retentionctl"),
            ("MESSAGE_ID", messageID),
            ("EVENT", EngineEvent.auditAppended.rawValue),
        ] + anchor.fields
        // Once per command: a demo on a machine without journald appends dozens of records.
        if let problem = JournalSocket.send(fields), warned.withLock({ (done: inout Bool) -> Bool in defer { done = true }; return !done }) {
            Output.error("retentionctl: warning: the audit records this command appends (from \(anchor.sequence)) are not anchored in the "
                         + "journal (\(problem)); note the head 'retentionctl audit head' prints elsewhere")
        }
    }

    /// The anchors of `chain` that journald holds, read with `journalctl -o json`.
    static func fromJournal(chain: String) throws -> [AuditAnchor] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["journalctl", "--no-pager", "--quiet", "-o", "json", "\(AuditAnchor.chainField)=\(chain)"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { throw AnchorError(message: "cannot run journalctl: \(error)") }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let problem = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw AnchorError(message: "journalctl exited with \(process.terminationStatus): \(problem.trimmingCharacters(in: .whitespacesAndNewlines)) "
                              + "(reading the system journal needs root or the group systemd-journal or adm)")
        }
        return try parse(output, source: "journal")
    }

    /// The anchors in `journalctl -o json` output (one JSON object per line), of any chain: entries
    /// without an anchor's fields are skipped.
    static func parse(_ data: Data, source: String) throws -> [AuditAnchor] {
        var anchors: [AuditAnchor] = []
        for (index, line) in data.split(separator: 10).enumerated() where !line.allSatisfy({ $0 == 32 || $0 == 13 }) {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
                throw AnchorError(message: "line \(index + 1): expected one JSON object per line (journalctl -o json), found '\(String(decoding: line.prefix(60), as: UTF8.self))'")
            }
            // journalctl gives a field as a string; as an array when the entry repeats it (never ours).
            if let anchor = AuditAnchor(fields: object.compactMapValues { $0 as? String }, source: source) { anchors.append(anchor) }
        }
        return anchors
    }
}

/// The anchors could not be read.
struct AnchorError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
