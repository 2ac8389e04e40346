import Foundation

/// The rules of one or more files, merged, in file and then document order.
public struct RuleSet: Sendable, Hashable {
    /// Every rule, in the order read.
    public private(set) var rules: [Rule]
    /// The files read, in order.
    public private(set) var files: [String]
    private var index: [String: Int]

    /// A rule set from rules already checked for unique ids.
    public init(rules: [Rule] = [], files: [String] = []) {
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

/// Why rules or stores could not be read at all (as opposed to a problem inside a file).
public struct RulesReadError: Error, Sendable, CustomStringConvertible {
    /// The path given.
    public var path: String
    /// What went wrong.
    public var reason: String

    public var description: String { "cannot read '\(path)': \(reason)" }
}

extension RuleSet {
    /// The file names a directory contributes: `*.yaml` and `*.yml`, in name order, hidden files
    /// and editor backups skipped.
    public static func ruleFiles(in directory: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        return names.filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }
            .sorted()
            .map { directory.hasSuffix("/") ? directory + $0 : directory + "/" + $0 }
    }

    /// Reads files and directories of rules files and merges them.
    ///
    /// A problem inside a file is a diagnostic; a path that cannot be read at all throws.
    public static func load(paths: [String]) throws(RulesReadError) -> RulesLoad {
        var texts: [(file: String, text: String)] = []
        for file in try filePaths(paths) {
            texts.append((file, try read(file)))
        }
        return merge(texts)
    }

    /// The files named, and the `*.yaml`/`*.yml` files of the directories named, in order.
    static func filePaths(_ paths: [String]) throws(RulesReadError) -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw RulesReadError(path: path, reason: "no such file or directory")
            }
            if isDirectory.boolValue {
                do {
                    files += try ruleFiles(in: path)
                } catch {
                    throw RulesReadError(path: path, reason: "cannot list the directory (\(error.localizedDescription))")
                }
            } else {
                files.append(path)
            }
        }
        return files
    }

    /// The UTF-8 text of a configuration file.
    static func read(_ file: String) throws(RulesReadError) -> String {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw RulesReadError(path: file, reason: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RulesReadError(path: file, reason: "the file is not UTF-8 text")
        }
        return text
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
