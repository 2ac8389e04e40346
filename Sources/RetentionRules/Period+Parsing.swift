/// Why a text is not a duration, with a hint that says what to write instead.
public struct PeriodSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong, including the text found and the expected form.
    public var message: String
    /// Column offset inside the text where the problem starts (0-based).
    public var offset: Int

    /// Creates an error.
    package init(_ message: String, offset: Int = 0) {
        self.message = message
        self.offset = offset
    }

    public var description: String { message }
}

extension Period {
    /// The accepted forms, for messages.
    package static let expectedForm =
        "a whole number and a unit: h, d, w, mo or y (for example 35d, 14mo, 10y)"

    /// The longest period: dates computed from now with it stay well within the years 0001–9999.
    public static let maximumYears = 1000

    /// Parses `35d`, `14 months`, `1 year`, `0d`. Never guesses: a bare number, `m`, a fraction,
    /// a negative number or an unknown unit is an error with a hint.
    public static func parse(_ text: String) throws(PeriodSyntaxError) -> Period {
        let trimmed = text.trimmingSpaces()
        let leading = text.prefix { $0 == " " || $0 == "\t" }.count
        guard !trimmed.isEmpty else {
            throw PeriodSyntaxError("expected a duration, \(expectedForm); found nothing")
        }
        let scalars = Array(trimmed.unicodeScalars)
        var index = 0
        if scalars[0] == "-" || scalars[0] == "+" {
            let sign = scalars[0] == "-" ? "negative" : "signed"
            throw PeriodSyntaxError(
                "a duration cannot be \(sign): found '\(trimmed)'; write \(expectedForm)", offset: leading)
        }
        while index < scalars.count, ("0"..."9").contains(scalars[index]) { index += 1 }
        guard index > 0 else {
            if let unit = unitNamed(trimmed) {
                throw PeriodSyntaxError(
                    "'\(trimmed)' has no number; write for example 1\(unit.symbol)", offset: leading)
            }
            throw PeriodSyntaxError("expected a duration, \(expectedForm); found '\(trimmed)'", offset: leading)
        }
        let digits = String(String.UnicodeScalarView(scalars[0..<index]))
        if index < scalars.count, scalars[index] == "." || scalars[index] == "," {
            throw PeriodSyntaxError(
                "a duration must be a whole number of units: found '\(trimmed)'; use a smaller unit "
                    + "(1.5y is 18mo, 0.5d is 12h)", offset: leading + index)
        }
        var unitStart = index
        while unitStart < scalars.count, scalars[unitStart] == " " { unitStart += 1 }
        let unitText = String(String.UnicodeScalarView(scalars[unitStart...]))
        guard !unitText.isEmpty else {
            throw PeriodSyntaxError(
                "'\(trimmed)' has no unit: \(digits) what? Write \(digits)d, \(digits)w, \(digits)mo or \(digits)y",
                offset: leading)
        }
        guard let count = Int(digits), count <= 100_000 else {
            throw PeriodSyntaxError("'\(digits)' is too large for a retention period", offset: leading)
        }
        let unitOffset = leading + unitStart
        if let unit = unitNamed(unitText) {
            // Every date retentiond writes (a grace window's end, a cutoff, a due instant) must stay
            // within the years 0001–9999, or the state database could not read it back.
            let duration = Period(count, unit)
            guard duration.approximateDays <= Double(maximumYears) * 365.2425 else {
                throw PeriodSyntaxError("'\(trimmed)' is longer than \(maximumYears) years: no period retentiond computes may be; "
                                          + "for data kept indefinitely write 'forever'", offset: leading)
            }
            return duration
        }
        throw PeriodSyntaxError(unitProblem(unitText, count: digits), offset: unitOffset)
    }

    static func unitNamed(_ text: String) -> Unit? {
        Unit.allCases.first { $0.spellings.contains(text) }
    }

    private static func unitProblem(_ unit: String, count: String) -> String {
        switch unit {
        case "m", "M":
            return "'\(count)\(unit)' is ambiguous (minutes or months?): write \(count)mo for months"
        case "min", "mins", "minute", "minutes", "s", "sec", "secs", "second", "seconds":
            return "'\(unit)' is too fine a unit for retention: use h, d, w, mo or y"
        default:
            break
        }
        if let unit = unitNamed(unit.lowercased()) {
            return "units are written in lower case: write \(count)\(unit.symbol)"
        }
        let spellings = Unit.allCases.flatMap(\.spellings)
        if let close = Suggestion.closest(to: unit, among: spellings), let match = unitNamed(close) {
            return "unknown unit '\(unit)'; did you mean \(count)\(match.symbol)?"
        }
        let aliases: [String: Unit] = ["yr": .years, "yrs": .years, "mon": .months, "mos": .months,
                                       "mth": .months, "mths": .months, "wk": .weeks, "wks": .weeks,
                                       "hr": .hours, "hrs": .hours, "jaar": .years, "år": .years,
                                       "dage": .days, "dagen": .days, "dagar": .days]
        if let match = aliases[unit.lowercased()] {
            return "unknown unit '\(unit)'; did you mean \(count)\(match.symbol)?"
        }
        return "unknown unit '\(unit)': expected h, d, w, mo or y"
    }
}

extension String {
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
