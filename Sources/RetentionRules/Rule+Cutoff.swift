package import Foundation
import Synchronization

extension Rule {
    /// The cutoff of a stage at `now`: a record is due for the stage exactly when its anchor is
    /// earlier than the returned instant (`anchor < cutoff`, to the microsecond).
    ///
    /// This is **not** `now − period`: near month ends several anchors share one due instant
    /// (on 28 Feb a `1mo` rule makes 29, 30 and 31 January due), alignment moves whole years, and
    /// days follow the wall clock across DST. Because `due(anchor)` is monotone, the boundary is
    /// found by bisection on whole microseconds, so it is exact on the grid timestamps are
    /// stored on.
    package func cutoff(for stage: Stage, at now: Date) -> Date {
        let key = CutoffKey(after: stage.after, alignment: alignment, calendar: calendar, now: now)
        if let known = Self.cutoffs.withLock({ $0[key] }) { return known }
        let cutoff = Self.cutoff(at: now) { calendar.due(after: stage.after, from: $0, alignment: alignment) }
        Self.cutoffs.withLock { cache in
            if cache.count >= 4096 { cache.removeAll() }
            cache[key] = cutoff
        }
        return cutoff
    }

    /// The bisection costs some fifty calendar computations in the rule's time zone; a plan asks
    /// the same rule for every dataset it governs, at the same instant. The answer depends only on
    /// the period, the alignment, the calendar and the instant.
    private static let cutoffs = Mutex<[CutoffKey: Date]>([:])

    private struct CutoffKey: Hashable {
        var after: Period
        var alignment: Alignment?
        var calendar: RetentionCalendar
        var now: Date
    }

    /// The cutoff for a monotone `due` function: the smallest microsecond whose anchor is not due
    /// (`strictly`: whose due instant is not before `now`).
    static func cutoff(at now: Date, strictly: Bool = false, due: (Date) -> Date) -> Date {
        func isDue(_ micros: Int64) -> Bool {
            let instant = due(Date(microsecondsSince1970: micros))
            return strictly ? instant < now : instant <= now
        }
        let nowMicros = Int64((now.timeIntervalSince1970 * 1e6).rounded(.down))
        // A period never ends before its anchor, so `now` + 1µs is never due; search down from it.
        var notDue = nowMicros + 1
        var step: Int64 = 86_400_000_000
        var due = notDue - step
        while !isDue(due) {
            notDue = due
            step = min(step * 2, Int64(400 * 366) * 86_400_000_000)
            due -= step
        }
        while notDue - due > 1 {
            let middle = due + (notDue - due) / 2
            if isDue(middle) { due = middle } else { notDue = middle }
        }
        return Date(microsecondsSince1970: notDue)
    }
}

extension Rule {
    /// Records whose (aligned) anchor is earlier than this are past the rule's `deadline:` at `now`:
    /// their deadline is strictly before `now` (done at the deadline instant is in time).
    package func deadlineCutoff(at now: Date) -> Date? {
        deadline.map { deadline in
            Self.cutoff(at: now, strictly: true) { calendar.due(after: deadline, from: $0, alignment: alignment) }
        }
    }

    /// For a deferred erasure, whose deadline counts again from the instant its deferral ended: a
    /// record is late at `now` only if the deferral had ended by the returned instant, `now` minus
    /// the deadline on the rule's calendar.
    package func deferralEndForLateness(at now: Date) -> Date? {
        deadline.map { deadline in
            let cutoff = Self.cutoff(at: now, strictly: true) { calendar.due(after: deadline, from: $0) }
            return Date(timeIntervalSince1970: Double(Int64((cutoff.timeIntervalSince1970 * 1e6).rounded()) - 1) / 1e6)
        }
    }
}
