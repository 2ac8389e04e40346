import PropertyBased
import RetentionRules
import Testing


@Suite("Durations")
struct DurationTests {
    @Test("valid durations parse", arguments: [
        ("10y", Period(10, .years)), ("14mo", Period(14, .months)), ("35d", Period(35, .days)),
        ("365 days", Period(365, .days)), ("1 year", Period(1, .years)), ("2 weeks", Period(2, .weeks)),
        ("1 week", Period(1, .weeks)), ("24h", Period(24, .hours)), ("12 hours", Period(12, .hours)),
        ("1 hour", Period(1, .hours)), ("0d", Period(0, .days)), ("6 months", Period(6, .months)),
        ("1 month", Period(1, .months)), ("7y", Period(7, .years)), ("3w", Period(3, .weeks)),
        (" 30d ", Period(30, .days)), ("1 day", Period(1, .days)),
    ])
    func parses(text: String, expected: Period) throws {
        #expect(try Period.parse(text) == expected)
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
            _ = try Period.parse(text)
        } throws: { error in
            (error as? PeriodSyntaxError)?.message.contains(fragment) == true
        }
    }

    @Test("the unit error points at the unit")
    func unitOffset() {
        #expect(throws: PeriodSyntaxError("'6m' is ambiguous (minutes or months?): write 6mo for months", offset: 1)) {
            _ = try Period.parse("6m")
        }
    }

    @Test("printing then parsing gives the same duration")
    func roundTrip() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...100_000), Gen<Period.Unit>.case) { count, unit in
            let duration = Period(count, unit)
            // Periods over 1000 years are refused (no date past the year 9999 may be computed).
            guard duration.approximateDays <= Double(Period.maximumYears) * 365.2425 else {
                #expect((try? Period.parse(duration.description)) == nil)
                return
            }
            #expect((try? Period.parse(duration.description)) == duration)
            for spelling in unit.spellings {
                #expect((try? Period.parse("\(count) \(spelling)")) == duration)
                #expect((try? Period.parse("\(count)\(spelling)")) == duration)
            }
        }
    }

    @Test("stage ordering is decided for every anchor or not at all", arguments: [
        (Period(7, .days), Period(90, .days), true),
        (Period(30, .days), Period(1, .months), false),
        (Period(1, .months), Period(35, .days), true),
        (Period(12, .months), Period(1, .years), false),
        (Period(1, .years), Period(10, .years), true),
        (Period(365, .days), Period(1, .years), false),
        (Period(24, .hours), Period(1, .days), false),
        (Period(7, .days), Period(1, .weeks), false),
        (Period(6, .months), Period(1, .years), true),
        (Period(1, .months), Period(32, .days), true),
        (Period(1, .months), Period(31, .days), false),
        (Period(2, .months), Period(63, .days), true),
    ])
    func ordering(shorter: Period, longer: Period, decided: Bool) {
        #expect(shorter.isAlwaysShorter(than: longer) == decided)
        #expect(!longer.isAlwaysShorter(than: shorter))
    }
}
