public import Foundation

/// Law-shaped time arithmetic in one IANA time zone.
///
/// Months and years are calendar months and years, clamped at month ends; days keep the wall-clock
/// time across DST changes; hours are elapsed time. Two rules make the mapping between wall-clock
/// times and instants total and monotone, so that a later anchor never falls due earlier:
///
/// - a month or year period that lands on a day the target month lacks (Jan 31 + 1mo) ends with
///   the last day of that month, at its end (Feb 28, 23:59:59.999999);
/// - a wall-clock time that does not exist (the spring-forward gap) is the first instant after the
///   gap;
/// - a wall-clock time that exists twice (the autumn fold) is its first occurrence; and an anchor
///   that happened during the repeated hour is read as the end of the fold, since the clock had
///   already shown a later time (this never makes anything due earlier than the plain reading).
public struct RetentionCalendar: Sendable, Hashable {
    /// The zone whose wall clock the arithmetic follows.
    public let timeZone: TimeZone

    /// A calendar for `timeZone`.
    package init(timeZone: TimeZone) {
        self.timeZone = timeZone
    }

    /// A calendar for an IANA zone name, or nil if the zone is unknown.
    public init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier), Self.isIANAName(identifier, resolvedAs: zone) else { return nil }
        self.init(timeZone: zone)
    }

    /// Whether `identifier` names an IANA zone, not an abbreviation (`CET`) or an offset (`GMT+1`)
    /// that Foundation would also accept. ICU's list of known zones lacks some current IANA names
    /// (`Asia/Kolkata`), so an `Area/Location` name that resolves to itself is accepted too.
    static func isIANAName(_ identifier: String, resolvedAs zone: TimeZone) -> Bool {
        if identifier == "UTC" || knownZones.contains(identifier) { return true }
        return identifier.contains("/") && zone.identifier == identifier
            && identifier.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || "/_-+0123456789".unicodeScalars.contains($0) }
    }

    private static let knownZones = Set(TimeZone.knownTimeZoneIdentifiers)

    /// When a period of `duration`, counted from `anchor` after `alignment`, ends.
    public func due(after duration: Period, from anchor: Date, alignment: Alignment? = nil) -> Date {
        let (start, local) = periodStart(anchor, alignment: alignment)
        switch duration.unit {
        case .hours:
            return start.addingTimeInterval(Double(duration.count) * 3_600)
        case .days:
            return instant(of: local.addingDays(duration.count))
        case .weeks:
            return instant(of: local.addingDays(duration.count * 7))
        case .months, .years:
            let target = local.addingMonths(duration.unit == .years ? duration.count * 12 : duration.count)
            guard target.day < local.day else { return instant(of: target) }
            // Clamped (Jan 31 + 1mo): due at the end of the month's last day. Keeping the
            // anchor's time of day would make Jan 29 00:00 fall due before Jan 28 23:00 does; the
            // end of the day is the earliest instant that keeps a later anchor from falling due
            // earlier, and it is what the law says (a period ends with the expiry of that day).
            return endOfDay(target)
        }
    }

    /// Whether `duration` from `anchor` lands on a day that does not exist in the target month,
    /// so that it ends with the month's last day instead.
    package func isClamped(after duration: Period, from anchor: Date, alignment: Alignment? = nil) -> Bool {
        guard duration.unit == .months || duration.unit == .years else { return false }
        let local = periodStart(anchor, alignment: alignment).local
        return local.addingMonths(duration.unit == .years ? duration.count * 12 : duration.count).day < local.day
    }

    /// Where a period starts: the anchor, or with `alignment` the start of the next day, month or
    /// year; as an instant and on the wall clock.
    private func periodStart(_ anchor: Date, alignment: Alignment?) -> (instant: Date, local: LocalDateTime) {
        let local = localDateTime(of: anchor)
        guard let alignment else { return (anchor, local) }
        let start = alignment.start(for: local)
        return (instant(of: start), start)
    }

    /// The last microsecond of the local day of `local`.
    private func endOfDay(_ local: LocalDateTime) -> Date {
        let next = instant(of: local.startOfNextDay).timeIntervalSince1970
        return Date(timeIntervalSince1970: ((next * 1e6).rounded() - 1) / 1e6)
    }

    /// The offset from UTC in seconds at `instant`.
    package func offset(at instant: Date) -> Int {
        timeZone.secondsFromGMT(for: instant)
    }

    /// The wall-clock time of `instant`, monotone through folds (see the type's documentation).
    public func localDateTime(of instant: Date) -> LocalDateTime {
        let seconds = instant.timeIntervalSince1970
        let offset = offset(at: instant)
        var nominal = seconds + Double(offset)
        // Within a day after a backward change, the wall clock may show a time it showed before.
        let dayBefore = Date(timeIntervalSince1970: seconds - 86_400)
        let earlierOffset = self.offset(at: dayBefore)
        if earlierOffset > offset {
            let change = transition(after: dayBefore.timeIntervalSince1970, before: seconds)
            let endOfFold = change + Double(earlierOffset)
            if nominal < endOfFold { nominal = endOfFold }
        }
        return LocalDateTime(nominalSeconds: nominal)
    }

    /// The instant the wall clock shows `local`: the first occurrence in a fold, the end of the gap
    /// in a gap.
    public func instant(of local: LocalDateTime) -> Date {
        let nominal = local.nominalSeconds
        let before = offset(at: Date(timeIntervalSince1970: nominal - 86_400))
        let after = offset(at: Date(timeIntervalSince1970: nominal + 86_400))
        let candidates = [nominal - Double(max(before, after)), nominal - Double(min(before, after))]
        for candidate in candidates where offset(at: Date(timeIntervalSince1970: candidate)) == Int(nominal - candidate) {
            return Date(timeIntervalSince1970: candidate)
        }
        // In a gap: the wall clock jumps over `local`; the first instant after the jump.
        let low = nominal - Double(max(before, after)), high = nominal - Double(min(before, after))
        return Date(timeIntervalSince1970: transition(after: min(low, high), before: max(low, high)))
    }

    /// The first whole second in `(low, high]` at which the offset differs from the one at `low`.
    private func transition(after low: Double, before high: Double) -> Double {
        let initial = offset(at: Date(timeIntervalSince1970: low))
        var lo = low.rounded(.down), hi = high.rounded(.up)
        while hi - lo > 1 {
            let mid = ((lo + hi) / 2).rounded(.down)
            if offset(at: Date(timeIntervalSince1970: mid)) == initial { lo = mid } else { hi = mid }
        }
        return hi
    }

    /// `2027-02-28T00:00:00+01:00`: ISO 8601 with this zone's offset at that instant.
    public func format(_ instant: Date) -> String {
        let offset = offset(at: instant)
        let local = LocalDateTime(nominalSeconds: instant.timeIntervalSince1970 + Double(offset))
        return local.description + Self.formatOffset(offset)
    }

    static func formatOffset(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let minutes = abs(seconds) / 60
        return "\(sign)\(LocalDateTime.pad(minutes / 60, 2)):\(LocalDateTime.pad(minutes % 60, 2))"
    }
}
