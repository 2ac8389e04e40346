import Foundation
import Logging

/// Log lines on stderr for a daemon run in a terminal, shaped like `journalctl -o short-iso`:
/// time, identifier and pid, message; entries of a known kind end with their journal fields, so
/// that what would be filterable in the journal is visible here too.
struct ConsoleLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    let identifier: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The journal fields shown, in this order.
    static let shownFields = ["event", "rule", "store", "dataset", "job_id", "action", "stage", "count", "cutoff"]

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        var line = Self.timestamp(Date()) + " " + identifier + "[\(getpid())]: "
        // A located diagnostic already says "error:" after its FILE:LINE:COLUMN.
        if event.level >= .warning, all["config_file"] == nil { line += "\(event.level): " }
        line += "\(event.message)"
        if all["event"] != nil {
            let fields = Self.shownFields.compactMap { key in all[key].map { key.uppercased() + "=" + "\($0)" } }
            line += "  [" + fields.joined(separator: " ") + "]"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .current).year().month().day().time(includingFractionalSeconds: false)
            .timeZone(separator: .omitted))
    }
}
