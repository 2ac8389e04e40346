import Foundation
import PropertyBased
import RetentionRules
import Testing

/// The planner's cutoff agrees with record-by-record evaluation: `anchor < cutoff` exactly when
/// `due(anchor) <= now`.
@Suite("Cutoff")
struct CutoffTests {
    static func rule(_ retain: String, align: Alignment? = nil, zone: String = "Europe/Brussels") throws -> Rule {
        let duration = try Period.parse(retain)
        return Rule(id: "r", retention: .stages([Stage(after: duration, then: .delete)]), anchor: Anchor(["created_at"]),
                    alignment: align, calendar: RetentionCalendar(identifier: zone)!,
                    location: .init(file: "t", line: 1, column: 1))
    }

    @Test("on 28 Feb a 1mo rule's cutoff takes in 29, 30 and 31 January at the end of the day")
    func monthEnd() throws {
        let rule = try Self.rule("1mo")
        let stage = rule.retention.stages[0]
        let noon = rule.cutoff(for: stage, at: try instant("2027-02-28T12:00:00+01:00"))
        #expect(rule.calendar.format(noon) == "2027-01-28T12:00:00.000001+01:00", "only up to Jan 28 12:00 at noon")
        let endOfDay = rule.cutoff(for: stage, at: try instant("2027-02-28T23:59:59.999999+01:00"))
        #expect(rule.calendar.format(endOfDay) == "2027-02-01T00:00:00+01:00", "all of January by the end of Feb 28")
        // `now - 1mo` computed naively (Jan 28) would miss Jan 29-31: the cutoff is not a subtraction.
    }

    @Test("a 3y end-of-year rule on 2030-01-01 makes everything of 2026 due")
    func endOfYear() throws {
        let rule = try Self.rule("3y", align: .endOfYear)
        let cutoff = rule.cutoff(for: rule.retention.stages[0], at: try instant("2030-01-01T00:00:00+01:00"))
        #expect(rule.calendar.format(cutoff) == "2027-01-01T00:00:00+01:00")
        let before = rule.cutoff(for: rule.retention.stages[0], at: try instant("2029-12-31T23:59:59+01:00"))
        #expect(rule.calendar.format(before) == "2026-01-01T00:00:00+01:00")
    }

    @Test("cutoff agrees with evaluating each anchor")
    func agreesWithBruteForce() async {
        let periods = ["0d", "1h", "24h", "1d", "7d", "1w", "1mo", "14mo", "1y", "7y", "365d"]
        let aligns: [Alignment?] = [nil, .endOfDay, .endOfMonth, .endOfYear]
        let zones = ["Europe/Brussels", "America/New_York", "UTC", "Australia/Sydney"]
        await propertyCheck(count: 300, input: Gen.element(of: periods), Gen.element(of: aligns), Gen.element(of: zones),
                            Gen.int(in: 1_700_000_000...1_900_000_000)) { period, align, zone, nowSeconds in
            let rule = try Self.rule(period!, align: align!, zone: zone!)
            let stage = rule.retention.stages[0]
            let now = Date(timeIntervalSince1970: Double(nowSeconds))
            let cutoff = rule.cutoff(for: stage, at: now)
            // Anchors on both sides of the cutoff, and a spread of anchors around now − period.
            var anchors = [cutoff.addingTimeInterval(-1e-6), cutoff, cutoff.addingTimeInterval(-1), cutoff.addingTimeInterval(1)]
            for offset in stride(from: -40.0, through: 40.0, by: 7.3) {
                anchors.append(cutoff.addingTimeInterval(offset * 86_400 / 3))
            }
            for anchor in anchors {
                let micros = (anchor.timeIntervalSince1970 * 1e6).rounded()
                let onGrid = Date(timeIntervalSince1970: micros / 1e6)
                let due = rule.calendar.due(after: stage.after, from: onGrid, alignment: rule.alignment) <= now
                #expect((onGrid < cutoff) == due, "\(period!) \(align!.map(\.rawValue) ?? "-") \(zone!): anchor \(rule.calendar.format(onGrid)) cutoff \(rule.calendar.format(cutoff))")
            }
        }
    }
}
