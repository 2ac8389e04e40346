import Foundation
import Logging

/// Messages to stderr, one line each, as `retentionctl: LEVEL: message`; fields stay in the journal.
struct ConsoleLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        Output.error("retentionctl: \(event.level): \(event.message)")
    }

    static func logger(quiet: Bool = false) -> Logger {
        var logger = Logger(label: "retentionctl") { _ in ConsoleLogHandler() }
        logger.logLevel = quiet ? .warning : .info
        return logger
    }
}
