import Foundation
package import Logging

/// Log lines on stderr, for either executable run in a terminal. One handler, two shapes:
/// `retentionctl` says what happened as a command does (`retentionctl: warning: …`); `retentiond`
/// prints like `journalctl -o short-iso` (time, identifier and pid, message), and entries of a
/// known kind end with their journal fields, so that what would be filterable in the journal is
/// visible here too.
package struct ConsoleLogHandler: LogHandler {
    /// The shape of each line.
    package enum Style: Sendable {
        /// `NAME: LEVEL: message`, fields left to the journal.
        case command(name: String)
        /// `TIME IDENTIFIER[PID]: [LEVEL: ]message  [FIELD=value …]`.
        case journal(identifier: String)
    }

    package var logLevel: Logger.Level = .info
    package var metadata: Logger.Metadata = [:]
    let style: Style

    package init(style: Style) {
        self.style = style
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The journal fields shown, in this order.
    static let shownFields = ["event", "rule", "store", "dataset", "job_id", "action", "stage", "count", "cutoff", "lease", "term", "daemon"]

    package func log(event: LogEvent) {
        let line = switch style {
        case .command(let name): "\(name): \(event.level): \(event.message)"
        case .journal(let identifier): journalLine(event, identifier: identifier)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private func journalLine(_ event: LogEvent, identifier: String) -> String {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        var line = Self.timestamp(Date()) + " " + identifier + "[\(getpid())]: "
        // A located diagnostic already says "error:" after its FILE:LINE:COLUMN.
        if event.level >= .warning, all["config_file"] == nil { line += "\(event.level): " }
        line += "\(event.message)"
        // The lease's events too: how several daemons on one state are followed without a journal.
        if all["event"] != nil || all["lease"] != nil {
            let fields = Self.shownFields.compactMap { key in all[key].map { key.uppercased() + "=" + "\($0)" } }
            line += "  [" + fields.joined(separator: " ") + "]"
        }
        return line
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .current).year().month().day().time(includingFractionalSeconds: false)
            .timeZone(separator: .omitted))
    }

    /// A logger for a command: info and up, or warnings and up when `quiet`.
    package static func commandLogger(_ name: String, quiet: Bool = false) -> Logger {
        var logger = Logger(label: name) { _ in ConsoleLogHandler(style: .command(name: name)) }
        logger.logLevel = quiet ? .warning : .info
        return logger
    }
}
