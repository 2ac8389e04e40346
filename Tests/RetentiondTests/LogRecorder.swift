import Logging
import Synchronization

/// An in-memory swift-log handler: the daemon's entries, in order, for tests to assert on.
final class LogRecorder: Sendable {
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: Logger.Metadata
    }

    private let entries = Mutex<[Entry]>([])

    /// A logger whose every entry, down to debug, lands here.
    var logger: Logger {
        var logger = Logger(label: "retentiond") { _ in Handler(recorder: self) }
        logger.logLevel = .debug
        return logger
    }

    var all: [Entry] { entries.withLock { $0 } }

    func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var logLevel: Logger.Level = .debug
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let metadata = self.metadata.merging(event.metadata ?? [:]) { _, new in new }
            recorder.append(Entry(level: event.level, message: "\(event.message)", metadata: metadata))
        }
    }
}
