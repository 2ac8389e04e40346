extension Int {
    /// Reads a count option that must be above zero (`--batch-size`): a batch of no records
    /// would never finish a job.
    package init(countOption text: String) throws(OptionValueError) {
        guard let count = Int(text), count > 0 else {
            throw OptionValueError(expected: "a whole number above 0", found: text)
        }
        self = count
    }
}
