import Synchronization
@testable import retentiond

/// What the daemon would tell systemd, kept in order instead of sent.
final class RecordingNotifier: LifecycleNotifier {
    enum Message: Sendable, Equatable {
        case ready(String)
        case status(String)
        case reloading
        case stopping
        case watchdog
    }

    private let messages = Mutex<[Message]>([])
    let watchdogTimeout: Duration?

    init(watchdogTimeout: Duration? = nil) { self.watchdogTimeout = watchdogTimeout }

    var all: [Message] { messages.withLock { $0 } }

    /// The status lines of READY=1, in order.
    var readies: [String] { all.compactMap { if case .ready(let status) = $0 { status } else { nil } } }

    func ready(status: String) { record(.ready(status)) }
    func status(_ status: String) { record(.status(status)) }
    func reloading(status: String) { record(.reloading) }
    func stopping(status: String) { record(.stopping) }
    func watchdog() { record(.watchdog) }

    private func record(_ message: Message) { messages.withLock { $0.append(message) } }
}
