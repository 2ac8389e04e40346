import Foundation
import RetentionRules
import Testing

@Suite("The one text of an instant (ISO 8601, UTC, microseconds)")
struct InstantTextTests {
    @Test("written as the state database, JSON and the CLI carry it", arguments: [
        (0, "1970-01-01T00:00:00Z"),
        (500_000, "1970-01-01T00:00:00.5Z"),
        (1_778_418_000_000_001, "2026-05-10T13:00:00.000001Z"),
        (1_778_418_000_250_000, "2026-05-10T13:00:00.25Z"),
        (-1, "1969-12-31T23:59:59.999999Z"),
        (-62_135_596_800_000_000, "0001-01-01T00:00:00Z"),
        (253_402_300_799_000_000, "9999-12-31T23:59:59Z"),
    ] as [(Int64, String)])
    func format(micros: Int64, text: String) {
        let date = Date(microsecondsSince1970: micros)
        #expect(InstantText.format(date) == text)
        #expect(InstantText.parse(text) == date)
        #expect(InstantText.civil(date) == text.dropLast().replacingOccurrences(of: "T", with: " "))
    }

    /// A `Date` is a Double of seconds: from 1950 to 2030 it holds every microsecond exactly, and
    /// every instant there reads back as itself; across years 0001–9999, every whole second does.
    @Test("instants read back as themselves")
    func roundTrip() {
        var generator = SystemRandomNumberGenerator()
        let centuries: ClosedRange<Int64> = -631_152_000_000_000...1_893_455_999_999_999
        let years: ClosedRange<Int64> = -62_135_596_800...253_402_300_799
        for _ in 0..<2_000 {
            for micros in [Int64.random(in: centuries, using: &generator), Int64.random(in: years, using: &generator) * 1_000_000] {
                let date = Date(microsecondsSince1970: micros)
                let text = InstantText.format(date)
                #expect(InstantText.parse(text)?.microsecondsSince1970 == micros, "\(text)")
                #expect(InstantText.parseCivil(InstantText.civil(date))?.microsecondsSince1970 == micros, "\(text)")
            }
        }
    }

    @Test("shorter forms read, fraction digits to the microsecond", arguments: [
        ("2026-05-10Z", 1_778_371_200_000_000),
        ("2026-05-10T13:00Z", 1_778_418_000_000_000),
        ("2026-05-10T13:00:00.1234567Z", 1_778_418_000_123_456),
    ] as [(String, Int64)])
    func shorter(text: String, micros: Int64) {
        #expect(InstantText.parse(text)?.microsecondsSince1970 == micros)
    }

    @Test("anything else is no instant", arguments: [
        "2026-05-10T13:00:00", "2026-05-10T13:00:00+00:00", "2026-02-30T00:00:00Z", "2026-05-10T24:00:00Z",
        "2026-05-10T13:00:00.Z", "٢٠٢٦-05-10T13:00:00Z", "",
    ])
    func rejected(text: String) {
        #expect(InstantText.parse(text) == nil)
    }

    @Test("microseconds saturate instead of trapping")
    func saturating() {
        #expect(Date(timeIntervalSince1970: .infinity).microsecondsSince1970 == .max)
        #expect(Date(timeIntervalSince1970: -.infinity).microsecondsSince1970 == .min)
        #expect(Date(timeIntervalSince1970: .nan).microsecondsSince1970 == .min)
        #expect(Date(timeIntervalSince1970: 1e300).microsecondsSince1970 == .max)
        #expect(Date(timeIntervalSince1970: 0.0000004).microsecondsSince1970 == 0)
        #expect(Date(timeIntervalSince1970: 0.0000006).microsecondsSince1970 == 1)
    }
}
