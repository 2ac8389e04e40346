import Foundation
import Logging
import RetentionEngine
import RetentionRules
import Synchronization

/// Refuses passes while the wall clock has run ahead of the boot-time clock by more than
/// `--max-clock-jump` since the daemon started (or since it was last accepted): a clock set ahead
/// would delete records that are not due. A person accepts it with `retentionctl clock accept`; a
/// clock that comes back is trusted again by itself.
final class ClockGuard: Sendable {
    private let watch = Mutex(ClockWatch())
    /// Since when passes are refused, nil while the clock is trusted.
    private let refusedSince = Mutex<Date?>(nil)
    private let maximumJump: TimeInterval
    private let logger: Logger

    init(maximumJump: TimeInterval, logger: Logger) {
        self.maximumJump = maximumJump
        self.logger = logger
    }

    /// Whether a pass may act now; logs the refusal, or the acceptance that ends one.
    func isTrusted(_ state: any StateBackend) async -> Bool {
        let now = Date()
        let drift = watch.withLock { $0.drift(wall: now) }
        guard drift > maximumJump else {
            // Trusted again: a later jump is a new one, which an acceptance made before it must not cover.
            refusedSince.withLock { $0 = nil }
            return true
        }
        let refusedSince = self.refusedSince.withLock { since in
            if since == nil { since = now }
            return since!
        }
        if let accepted = try? await state.lastClockAcceptance(), accepted >= refusedSince.addingTimeInterval(-maximumJump) {
            watch.withLock { $0.rebase(wall: now) }
            self.refusedSince.withLock { $0 = nil }
            logger.notice("the clock was accepted at \(InstantText.format(accepted)); passes run again", metadata: ["event": "\(EngineEvent.clockRefused.rawValue)"])
            return true
        }
        logRefusal(now: now, drift: drift)
        return false
    }

    private func logRefusal(now: Date, drift: TimeInterval) {
        let hours = Int(drift / 3_600), minutes = Int(drift.truncatingRemainder(dividingBy: 3_600) / 60)
        let message = "refusing to act: the clock reads \(InstantText.format(now)), \(hours) h \(minutes) min ahead of the time that passed since "
            + "the daemon started (more than \(Int(maximumJump)) s); a clock set ahead would delete records that are not due. "
            + "If the clock is right now, say so with 'retentionctl clock accept'; otherwise fix it (timedatectl)"
        logger.critical("\(message)", metadata: ["event": "\(EngineEvent.clockRefused.rawValue)"])
    }
}
