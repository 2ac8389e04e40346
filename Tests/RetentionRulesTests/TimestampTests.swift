import Foundation
import RetentionRules
import Testing

@Suite("Command-line timestamps")
struct TimestampTests {
    @Test("instants: every offset form", arguments: [
        ("2026-05-10T15:00:00+02:00", 1_778_418_000.0),
        ("2026-05-10T13:00:00Z", 1_778_418_000.0),
        ("2026-05-10T13:00z", 1_778_418_000.0),
        ("2026-05-10 15:00+0200", 1_778_418_000.0),
        ("2026-05-10T15:00+02", 1_778_418_000.0),
        ("2026-05-10T07:30-05:30", 1_778_418_000.0),
        ("2026-05-10T13:00:00.25Z", 1_778_418_000.25),
        ("2026-05-10T13:00:00,5Z", 1_778_418_000.5),
        ("2026-05-10Z", 1_778_371_200.0),
    ])
    func instants(text: String, seconds: Double) throws {
        #expect(try Timestamp.parse(text) == .instant(Date(timeIntervalSince1970: seconds)))
    }

    @Test("wall-clock times: no offset", arguments: [
        ("2026-05-10", LocalDateTime(year: 2026, month: 5, day: 10)),
        ("2026-05-10T15:00", LocalDateTime(year: 2026, month: 5, day: 10, hour: 15)),
        ("2026-05-10 15:04:05", LocalDateTime(year: 2026, month: 5, day: 10, hour: 15, minute: 4, second: 5)),
        ("2024-02-29T23:59:59.123456789", LocalDateTime(year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 59.123456789)),
    ])
    func wallClock(text: String, expected: LocalDateTime) throws {
        #expect(try Timestamp.parse(text) == .local(expected))
    }

    // Found by the fuzzer (Fuzz/, FuzzTimestamp): the regular expression's `\d` matched any
    // Unicode digit, and `Int` then refused it: `retentionctl --now ٢٠٢٦-05-10` trapped.
    @Test("anything else is a syntax error, never a trap", arguments: [
        "\u{662}\u{660}\u{662}\u{666}-05-10", "２０２６-05-10", "2026-05-1\u{661}", "2026-05-10T1\u{669}:00",
        "2026-05-10T15:00:00.\u{665}", "2026-05-10T15:00+0\u{661}", "2026-05-10T15:00:00.1234567890",
        "", "2026", "2026-5-10", "2026-05-10T", "2026-05-10T15", "2026-05-10T15:00:", "2026-05-10T15:00:00.",
        "2026-05-10t15:00", "2026-05-10T15:00+", "2026-05-10T15:00+02:", "2026-05-10T15:00+02:0", "2026-05-10T15:00+020",
        " 2026-05-10", "2026-05-10 ", "+2026-05-10", "2026-05-10ZZ", "2026-05-10\u{301}",
    ])
    func refused(text: String) {
        #expect(throws: TimestampSyntaxError.self) { try Timestamp.parse(text) }
    }

    @Test("no such date, time or offset", arguments: [
        "0000-01-01T00:00+18", "0000-12-31", "2023-02-29", "2026-13-01", "2026-00-10", "2026-05-00", "2026-05-10T24:00", "2026-05-10T15:60",
        "2026-05-10T15:00:60Z", "2026-05-10T15:00+19:00", "2026-05-10T15:00+02:60",
        // Found by fuzzing (make test's smoke): an offset past ±18:00 put 0001-01-01 before year 1.
        "0001-01-01+1820", "2026-05-10T15:00-18:01",
    ])
    func impossible(text: String) {
        #expect {
            try Timestamp.parse(text)
        } throws: { error in
            (error as? TimestampSyntaxError)?.problem != nil
        }
    }
}
