import Systemd

/// What the daemon tells its service manager: `ServiceNotifier` (sd_notify) in production, a
/// recorder in tests, so that READY, RELOADING, STOPPING and STATUS are asserted in-process.
protocol LifecycleNotifier: Sendable {
    func ready(status: String)
    func status(_ status: String)
    func reloading(status: String)
    func stopping(status: String)
    func watchdog()
    /// The watchdog's timeout for this process, or nil when there is no watchdog.
    var watchdogTimeout: Duration? { get }
}

extension ServiceNotifier: LifecycleNotifier {}
