public import Logging

/// A swift-log handler writing each message as one structured journal entry: `MESSAGE`,
/// `PRIORITY`, `SYSLOG_IDENTIFIER`, `CODE_FILE`/`CODE_LINE`/`CODE_FUNC`, and every metadata value
/// as a field of its own (`job_id` → `JOB_ID=`), so that `journalctl RULE=contracts` finds it.
///
/// The metadata key `event` is special: `messageID` turns it into the entry's `MESSAGE_ID=` (which
/// `journalctl -x` looks up in the catalog); the event's name stays in `EVENT=`.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let identifier: String
    let messageID: @Sendable (String) -> String?

    /// - Parameters:
    ///   - identifier: `SYSLOG_IDENTIFIER=`, what `journalctl -t` selects.
    ///   - messageID: the 128-bit id (32 hex digits) for an event name, if it has one.
    public init(identifier: String, messageID: @escaping @Sendable (String) -> String? = { _ in nil }) {
        self.identifier = identifier
        self.messageID = messageID
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(name: String, value: String)] = [
            ("MESSAGE", "\(event.message)"),
            ("PRIORITY", String(Self.priority(event.level))),
            ("SYSLOG_IDENTIFIER", identifier),
            ("CODE_FILE", event.file),
            ("CODE_LINE", String(event.line)),
            ("CODE_FUNC", event.function),
        ]
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        for (key, value) in all.sorted(by: { $0.key < $1.key }) {
            let text = "\(value)"
            if key == "event", let id = messageID(text) { fields.append(("MESSAGE_ID", id)) }
            fields.append((Journal.fieldName(key), text))
        }
        Journal.send(fields)
    }

    /// syslog priorities, as journald stores them.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
