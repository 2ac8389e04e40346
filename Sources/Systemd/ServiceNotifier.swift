import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// Tells the service manager what the service is doing, through `sd_notify(3)`.
///
/// Every call is a no-op when the service was not started with `$NOTIFY_SOCKET` (for example in a
/// terminal), so callers need not ask first.
public struct ServiceNotifier: Sendable {
    public init() {}

    /// Sends raw `KEY=VALUE` lines; returns whether the manager was reached.
    @discardableResult
    public func send(_ assignments: [String]) -> Bool {
        // Newlines inside a value would start a new assignment: a status is one line.
        let text = assignments.map { $0.replacingNewlines() }.joined(separator: "\n")
        return sd_notify(0, text) > 0
    }

    /// Startup is complete: `READY=1`, with a status line.
    public func ready(status: String) {
        send(["READY=1", "STATUS=" + status])
    }

    /// A one-line summary for `systemctl status`.
    public func status(_ status: String) {
        send(["STATUS=" + status])
    }

    /// A reload begins. `MONOTONIC_USEC` lets `Type=notify-reload` tell this reload from an
    /// earlier one; `READY=1` ends it.
    public func reloading(status: String) {
        send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())", "STATUS=" + status])
    }

    /// Shutdown begins.
    public func stopping(status: String) {
        send(["STOPPING=1", "STATUS=" + status])
    }

    /// Keeps the watchdog from restarting the service.
    public func watchdog() {
        send(["WATCHDOG=1"])
    }

    /// The watchdog's timeout when it is enabled for this very process (`$WATCHDOG_USEC`, and
    /// `$WATCHDOG_PID` naming this process if set), else nil. Ping at half of it.
    public var watchdogTimeout: Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(clamping: microseconds))
    }

    /// `CLOCK_MONOTONIC` in microseconds, the clock systemd's `MONOTONIC_USEC=` is read against.
    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}

extension String {
    func replacingNewlines() -> String {
        String(map { $0.isNewline ? " " : $0 })
    }
}
