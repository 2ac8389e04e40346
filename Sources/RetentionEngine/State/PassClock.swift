package import Foundation
import RetentionRules

/// The clock checks a pass makes against the passes before it, whichever backend keeps them:
/// a pass refuses to act under a clock that went backwards or jumped ahead since the last pass,
/// until a person accepts the clock (which is recorded as a pass whose result says so).
package enum PassClock {
    /// How the pass that records a person's acceptance of the clock begins its result.
    package static let acceptedBy = "clock accepted by "

    /// Refuses `now` when it is earlier than the last pass, or more than `maximumGap` later.
    /// `skew`: how much earlier is still taken for clocks of several hosts agreeing (a shared
    /// state, whose passes other daemons began; 0 for a daemon's own state).
    package static func refuse(_ now: Date, after last: Date, maximumGap: TimeInterval?, location: String,
                               skew: TimeInterval = 0) throws(StateError) {
        if now < last - skew {
            throw StateError(path: location, message: "refusing to act: the clock reads \(InstantText.format(now)), earlier than the last pass at "
                             + "\(InstantText.format(last)); a clock running backwards would make records look due or not due wrongly. "
                             + "Fix the system clock (timedatectl), then run again; if the clock is right now and the last pass ran "
                             + "under a wrong one, say so with 'retentionctl clock accept'")
        }
        // A clock that jumped far ahead makes records due that are not: refuse until a person says it is right.
        if let maximumGap, now.timeIntervalSince(last) > maximumGap {
            let days = Int(now.timeIntervalSince(last) / 86_400)
            throw StateError(path: location, message: "refusing to act: the clock reads \(InstantText.format(now)), \(days) days after the last pass at "
                             + "\(InstantText.format(last)), more than a plausible gap of \(Int(maximumGap / 86_400)) days; a clock set ahead would "
                             + "delete records that are not due. If the clock is right (the host was off that long), say so with "
                             + "'retentionctl clock accept', then run again; otherwise fix the clock (timedatectl)")
        }
    }

}
