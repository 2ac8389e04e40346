package import Foundation

/// Notices the wall clock jumping ahead of the time that really passed while a process runs.
///
/// The wall clock decides what is due; a clock set ahead makes records due that are not. Against
/// the last pass the state database allows a plausible gap (a host may be off for weeks); while a
/// daemon runs it can do better: the continuous clock (`CLOCK_BOOTTIME`, counting suspend too)
/// says how much time really passed, and a wall clock that moved further ahead than that, beyond a
/// tolerance for NTP steps and paused virtual machines, is not trusted until a person says so.
package struct ClockWatch: Sendable {
    private var wall: Date
    private var elapsed: ContinuousClock.Instant
    /// Starts watching from `wall` as read at `now`.
    package init(wall: Date = Date(), now: ContinuousClock.Instant = .now) {
        self.wall = wall
        self.elapsed = now
    }

    /// How far `wall`, read at `now`, is ahead of the time that passed since the baseline (seconds;
    /// negative when it is behind, which the state database's check against the last pass handles).
    package func drift(wall: Date, now: ContinuousClock.Instant = .now) -> TimeInterval {
        let passed = self.elapsed.duration(to: now)
        let seconds = Double(passed.components.seconds) + Double(passed.components.attoseconds) / 1e18
        return wall.timeIntervalSince(self.wall) - seconds
    }

    /// Trusts `wall` from now on (a person accepted it, or it came back).
    package mutating func rebase(wall: Date, now: ContinuousClock.Instant = .now) {
        self.wall = wall
        self.elapsed = now
    }
}
