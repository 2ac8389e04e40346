package import RetentionRules

/// Periods on the command line are written as in the rules language (`Period.parse`: `12h`,
/// `30d`, `3mo`), so that an operator learns one syntax and the ambiguous `m` is refused everywhere.
extension Period {
    /// Reads a period option (`--horizon`, `--max-clock-gap`): any period of the rules language,
    /// `0d` included.
    package init(option text: String) throws(OptionValueError) {
        do {
            self = try Period.parse(text)
        } catch {
            throw OptionValueError(expected: Period.expectedForm, found: text, problem: error.message)
        }
    }

    /// The period as elapsed seconds, for what is not calendar arithmetic (how long to sleep, how
    /// far a clock may jump): hours, days and weeks of 3600, 86 400 and 604 800 seconds, months and
    /// years at their average length.
    package var elapsedSeconds: Double { approximateDays * 86_400 }
}

extension Duration {
    /// Reads a span option (`--interval`, `--max-clock-jump`): a period of the rules language
    /// above zero, as elapsed time (`Period.elapsedSeconds`).
    package init(periodOption text: String) throws(OptionValueError) {
        let period = try Period(option: text)
        guard !period.isZero else {
            throw OptionValueError(expected: "a period above zero, \(Period.expectedForm)", found: text,
                                   problem: "'\(text)' is no time at all")
        }
        self = .seconds(period.elapsedSeconds)
    }
}
