import Foundation
import PropertyBased
import RetentionRules
import Testing

/// A later anchor never falls due earlier, in any zone, for any period and alignment — the
/// property the planner's cutoff search relies on. Anchors are drawn around DST changes, where
/// naive wall-clock arithmetic breaks it.
@Suite("Monotonicity")
struct MonotonicityTests {
    static let zones = ["Europe/Brussels", "America/New_York", "Australia/Sydney", "America/Santiago",
                        "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]

    /// Instants near DST changes of 2026 in the zones above (UTC seconds), and a plain one.
    static let bases: [Double] = [
        1_774_746_000, // 2026-03-29T01:00Z, Brussels spring forward
        1_792_890_000, // 2026-10-25T01:00Z, Brussels fall back
        1_772_953_200, // 2026-03-08T07:00Z, New York spring forward
        1_793_512_800, // 2026-11-01T06:00Z, New York fall back
        1_775_318_400, // 2026-04-04T16:00Z, Sydney fall back
        1_759_593_600, // 2025-10-04T16:00Z, Sydney spring forward
        1_775_876_400, // 2026-04-11T03:00Z, Santiago fall back (at midnight)
        1_788_580_800, // 2026-09-05T04:00Z, Santiago spring forward (at midnight)
        1_767_225_600, // 2026-01-01T00:00Z
        1_769_644_800, // 2026-01-29T00:00Z, month ends: Jan 29…31 + 1mo clamp to Feb 28
        1_769_817_600, // 2026-01-31T00:00Z
        1_709_164_800, // 2024-02-29T00:00Z, leap day + 1y clamps to Feb 28
        1_774_915_200, // 2026-03-31T00:00Z, Mar 31 + 1mo clamps to Apr 30
        1_788_134_400, // 2026-08-31T00:00Z, Aug 31 + 6mo clamps to Feb 28
    ]

    static let durations: [Period] = [
        .init(0, .days), .init(1, .hours), .init(24, .hours), .init(1, .days), .init(7, .days), .init(1, .weeks),
        .init(1, .months), .init(14, .months), .init(1, .years), .init(3, .years), .init(365, .days), .init(6, .months),
    ]

    static let alignments: [Alignment?] = [nil, .endOfDay, .endOfMonth, .endOfYear]

    @Test("a later anchor never falls due earlier")
    func laterAnchorNeverEarlier() async {
        await propertyCheck(
            count: 3_000,
            input: Gen.element(of: Self.zones), Gen.element(of: Self.bases), Gen.int(in: -86_400...86_400),
            Gen.int(in: 0...7_200), Gen.element(of: Self.durations), Gen.element(of: Self.alignments)
        ) { zone, base, shift, gap, duration, alignment in
            let calendar = RetentionCalendar(identifier: zone!)!
            let earlier = Date(timeIntervalSince1970: base! + Double(shift))
            let later = earlier.addingTimeInterval(Double(gap))
            let dueEarlier = calendar.due(after: duration!, from: earlier, alignment: alignment!)
            let dueLater = calendar.due(after: duration!, from: later, alignment: alignment!)
            #expect(dueEarlier <= dueLater,
                    "\(zone!): \(calendar.format(earlier)) → \(calendar.format(dueEarlier)), \(calendar.format(later)) → \(calendar.format(dueLater))")
            #expect(dueEarlier >= earlier, "a period never ends before its anchor")
        }
    }

    @Test("wall-clock mapping round-trips for every existing, unambiguous local time")
    func localRoundTrip() async {
        await propertyCheck(count: 2_000, input: Gen.element(of: Self.zones), Gen.element(of: Self.bases),
                            Gen.int(in: -86_400...86_400)) { zone, base, shift in
            let calendar = RetentionCalendar(identifier: zone!)!
            let instant = Date(timeIntervalSince1970: base! + Double(shift))
            let local = calendar.localDateTime(of: instant)
            let back = calendar.instant(of: local)
            // Equal except in a fold's second pass, which reads as the end of the fold (later).
            #expect(back >= instant || abs(back.timeIntervalSince(instant)) < 0.001)
            #expect(calendar.localDateTime(of: back) == local)
        }
    }

    @Test("a sweep of anchors every 30 minutes around month ends and DST changes falls due in order",
          arguments: ["Europe/Brussels", "America/New_York", "Australia/Sydney", "UTC"])
    func sweep(zone: String) {
        let calendar = RetentionCalendar(identifier: zone)!
        for base in Self.bases {
            for duration in Self.durations {
                for alignment in Self.alignments {
                    var previous: (anchor: Date, due: Date)?
                    for step in -96...96 {
                        let anchor = Date(timeIntervalSince1970: base + Double(step) * 1_800)
                        let due = calendar.due(after: duration, from: anchor, alignment: alignment)
                        if let previous, due < previous.due {
                            Issue.record("\(zone) \(duration) \(alignment?.rawValue ?? "-"): \(calendar.format(previous.anchor)) → \(calendar.format(previous.due)) but \(calendar.format(anchor)) → \(calendar.format(due))")
                            return
                        }
                        previous = (anchor, due)
                    }
                }
            }
        }
    }
}
