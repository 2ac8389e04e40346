import PropertyBased
import RetentionRules
import Testing

typealias RDuration = RetentionRules.Duration

@Suite("Durations")
struct DurationTests {
    @Test("valid durations parse", arguments: [
        ("10y", RDuration(10, .years)), ("14mo", RDuration(14, .months)), ("35d", RDuration(35, .days)),
        ("365 days", RDuration(365, .days)), ("1 year", RDuration(1, .years)), ("2 weeks", RDuration(2, .weeks)),
        ("1 week", RDuration(1, .weeks)), ("24h", RDuration(24, .hours)), ("12 hours", RDuration(12, .hours)),
        ("1 hour", RDuration(1, .hours)), ("0d", RDuration(0, .days)), ("6 months", RDuration(6, .months)),
        ("1 month", RDuration(1, .months)), ("7y", RDuration(7, .years)), ("3w", RDuration(3, .weeks)),
        (" 30d ", RDuration(30, .days)), ("1 day", RDuration(1, .days)),
    ])
    func parses(text: String, expected: RDuration) throws {
        #expect(try RDuration.parse(text) == expected)
    }

    @Test("invalid durations are errors with a hint, never a guess", arguments: [
        ("15", "has no unit"), ("0", "has no unit"), ("6m", "ambiguous"), ("6M", "ambiguous"), ("1.5y", "whole number"),
        ("-3d", "negative"), ("+3d", "signed"), ("10yrs", "did you mean 10y?"), ("10Y", "lower case: write 10y"),
        ("months", "has no number"), ("30 minutes", "too fine"), ("10 fortnights", "unknown unit"), ("", "found nothing"),
        ("forever", "expected a duration"), ("3 jaar", "did you mean 3y?"), ("10 Days", "lower case: write 10d"),
        ("2 wekes", "did you mean 2w?"), ("1001y", "longer than 1000 years"), ("12013mo", "longer than 1000 years"),
        ("100000y", "longer than 1000 years"), ("52178w", "longer than 1000 years"),
    ])
    func rejects(text: String, fragment: String) {
        #expect {
            _ = try RDuration.parse(text)
        } throws: { error in
            (error as? DurationSyntaxError)?.message.contains(fragment) == true
        }
    }

    @Test("the unit error points at the unit")
    func unitOffset() {
        #expect(throws: DurationSyntaxError("'6m' is ambiguous (minutes or months?): write 6mo for months", offset: 1)) {
            _ = try RDuration.parse("6m")
        }
    }

    @Test("printing then parsing gives the same duration")
    func roundTrip() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...100_000), Gen<RDuration.Unit>.case) { count, unit in
            let duration = RDuration(count, unit)
            // Periods over 1000 years are refused (no date past the year 9999 may be computed).
            guard duration.approximateDays <= Double(RDuration.maximumYears) * 365.2425 else {
                #expect((try? RDuration.parse(duration.description)) == nil)
                return
            }
            #expect((try? RDuration.parse(duration.description)) == duration)
            for spelling in unit.spellings {
                #expect((try? RDuration.parse("\(count) \(spelling)")) == duration)
                #expect((try? RDuration.parse("\(count)\(spelling)")) == duration)
            }
        }
    }

    @Test("stage ordering is decided for every anchor or not at all", arguments: [
        (RDuration(7, .days), RDuration(90, .days), true),
        (RDuration(30, .days), RDuration(1, .months), false),
        (RDuration(1, .months), RDuration(35, .days), true),
        (RDuration(12, .months), RDuration(1, .years), false),
        (RDuration(1, .years), RDuration(10, .years), true),
        (RDuration(365, .days), RDuration(1, .years), false),
        (RDuration(24, .hours), RDuration(1, .days), false),
        (RDuration(7, .days), RDuration(1, .weeks), false),
        (RDuration(6, .months), RDuration(1, .years), true),
        (RDuration(1, .months), RDuration(32, .days), true),
        (RDuration(1, .months), RDuration(31, .days), false),
        (RDuration(2, .months), RDuration(63, .days), true),
    ])
    func ordering(shorter: RDuration, longer: RDuration, decided: Bool) {
        #expect(shorter.isAlwaysShorter(than: longer) == decided)
        #expect(!longer.isAlwaysShorter(than: shorter))
    }
}
