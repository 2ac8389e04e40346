
/// The rules of one or more files, merged, in file and then document order.
public struct RuleSet: Sendable, Hashable {
    /// Every rule, in the order read.
    public private(set) var rules: [Rule]
    /// The files read, in order.
    package private(set) var files: [String]
    private var index: [String: Int]

    /// A rule set from rules already checked for unique ids.
    package init(rules: [Rule] = [], files: [String] = []) {
        self.rules = []
        self.files = files
        self.index = [:]
        for rule in rules { _ = insert(rule) }
    }

    /// The rule with `id`, if any.
    public subscript(id: String) -> Rule? { index[id].map { rules[$0] } }

    /// Adds a rule; returns the rule already there under the same id instead, if any.
    mutating func insert(_ rule: Rule) -> Rule? {
        if let existing = self[rule.id] { return existing }
        index[rule.id] = rules.count
        rules.append(rule)
        return nil
    }
}

/// The result of reading rules files: the usable rules and every problem found.
public struct RulesLoad: Sendable {
    /// The rules without errors, merged.
    public var ruleSet: RuleSet
    /// Every problem, in file order.
    public var diagnostics: [Diagnostic]
}

extension RuleSet {
    /// Reads files and directories of rules files and merges them.
    ///
    /// A problem inside a file is a diagnostic; a path that cannot be read at all throws.
    package static func load(paths: [String]) throws(ConfigurationReadError) -> RulesLoad {
        merge(try ConfigurationFiles.texts(paths))
    }


    /// Parses and merges rules texts; a duplicate id across files is an error naming both places.
    public static func merge(_ texts: [(file: String, text: String)]) -> RulesLoad {
        var ruleSet = RuleSet(files: texts.map(\.file))
        var diagnostics: [Diagnostic] = []
        for (file, text) in texts {
            let (rules, fileDiagnostics) = RulesParser.parse(text, file: file)
            diagnostics += fileDiagnostics
            for rule in rules {
                if let first = ruleSet.insert(rule) {
                    diagnostics.append(.error("duplicate rule id '\(rule.id)': already defined at \(first.location)",
                                              at: rule.location))
                }
            }
        }
        return RulesLoad(ruleSet: ruleSet, diagnostics: diagnostics)
    }
}
