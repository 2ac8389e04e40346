package import Logging

extension Logger.Level {
    /// Reads `--log-level`: one of swift-log's level names.
    package init(option text: String) throws(OptionValueError) {
        guard let level = Logger.Level(rawValue: text) else {
            let names = Logger.Level.allCases.map(\.rawValue)
            throw OptionValueError(expected: "one of \(names.dropLast().joined(separator: ", ")) or \(names.last ?? "")", found: text)
        }
        self = level
    }
}
