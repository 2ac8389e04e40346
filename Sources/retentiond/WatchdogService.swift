import AsyncAlgorithms
import ServiceLifecycle

/// Pings the service manager's watchdog at half its timeout while the daemon is alive in
/// `Liveness`'s sense (idle, or making progress within the timeout). A pass stuck on a store
/// stops the pings, and systemd restarts the service, which resumes the job.
struct WatchdogService: Service {
    let timeout: Duration
    let liveness: Liveness
    let notifier: any LifecycleNotifier

    func run() async {
        ping()
        for await _ in AsyncTimerSequence(interval: timeout / 2, clock: .continuous).cancelOnGracefulShutdown() {
            ping()
        }
    }

    func ping() {
        if liveness.isAlive(within: timeout) { notifier.watchdog() }
    }
}
