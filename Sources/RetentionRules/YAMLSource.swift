import Yams

/// One YAML file being read: its display name, and located access to Yams nodes.
///
/// Shared by the rules and the stores parsers so both report `FILE:LINE:COLUMN` the same way.
struct YAMLSource {
    /// The file as the user named it.
    let file: String
    /// Problems found so far, in the order found.
    var diagnostics: [Diagnostic] = []

    init(file: String) {
        self.file = file
    }

    /// Parses `text` into a node tree; a YAML syntax error becomes a located diagnostic.
    mutating func compose(_ text: String) -> Node? {
        // The formats are plain YAML: no anchors, aliases or tags (an alias as a mapping key once
        // cost 41 s of CPU), and no file larger than any rules or stores file needs to be.
        if text.utf8.count > Self.maximumBytes {
            diagnostics.append(.error("the file is \(text.utf8.count) bytes; at most \(Self.maximumBytes) are read", at: start))
            return nil
        }
        if let found = PlainYAML.firstExtension(in: text) {
            diagnostics.append(.error("\(found.what): anchors, aliases and tags are not part of the format; write the value out",
                                      at: SourceLocation(file: file, line: found.line, column: found.column)))
            return nil
        }
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            diagnostics.append(Self.diagnostic(for: error, file: file))
            return nil
        } catch {
            diagnostics.append(.error("cannot read YAML: \(error)", at: start))
            return nil
        }
    }

    var start: SourceLocation { SourceLocation(file: file, line: 1, column: 1) }

    /// The largest file read (rules, stores, rule tests).
    static let maximumBytes = 4 << 20

    /// The top-level mapping of a rules, stores or test file, its keys checked, and a `version:`
    /// (required or not) checked to be 1. Nil, with the problem reported, when there is no usable
    /// mapping. `contents` names what the file should hold, for the messages.
    mutating func topLevel<Key: FileKey>(of text: String, as _: Key.Type, contents: [String], in context: String,
                                         versionRequired: Bool) -> MappingReader<Key>? {
        guard let root = compose(text) else {
            if diagnostics.isEmpty {
                let expected = contents.map { $0 == "version" ? "'version: 1'" : "'\($0):'" }.joined(separator: " and ")
                diagnostics.append(.error("the file is empty: expected \(expected)", at: start))
            }
            return nil
        }
        let wanted = contents.map { "'\($0)'" }.joined(separator: " and ")
        guard var top = MappingReader<Key>(root, notAMapping: "expected a mapping with \(wanted)", &self) else { return nil }
        top.checkKeys(in: context, &self)
        if let entry = top[.version] {
            if let version = top.string(.version, expected: "the format version 1", &self), version != "1" {
                error("unsupported format version '\(version)': this retentiond reads version 1", at: entry.value)
            }
        } else if versionRequired {
            error("missing 'version: 1' at the top of \(context)", at: root)
        }
        return top
    }

    func location(of node: Node) -> SourceLocation {
        guard let mark = node.mark else { return start }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    /// The location `offset` scalars into a scalar's text, where that can be known exactly
    /// (a one-line plain or quoted scalar); the scalar's start otherwise.
    func location(of node: Node, offset: Int) -> SourceLocation {
        let base = location(of: node)
        guard let scalar = node.scalar, !scalar.string.contains("\n") else { return base }
        switch scalar.style {
        case .plain, .any: return base.advanced(by: offset)
        case .singleQuoted, .doubleQuoted:
            // Escapes would shift columns; the offset is exact only for text without them.
            let escaped = scalar.style == .doubleQuoted ? scalar.string.contains("\\") || scalar.string.contains("\"")
                : scalar.string.contains("'")
            return escaped ? base : base.advanced(by: offset + 1)
        case .literal, .folded: return base
        }
    }

    mutating func error(_ message: String, at node: Node) {
        diagnostics.append(.error(message, at: location(of: node)))
    }

    mutating func warning(_ message: String, at node: Node) {
        diagnostics.append(.warning(message, at: location(of: node)))
    }

    /// A mapping's entries with names for keys; reports keys that are not names.
    mutating func entries(of node: Node) -> [MappingEntry] {
        guard let mapping = node.mapping else { return [] }
        var result: [MappingEntry] = []
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                error("expected a key name; found \(Self.describe(key))", at: key)
                continue
            }
            result.append(MappingEntry(key: name, keyNode: key, value: value))
        }
        return result
    }

    /// Whether `node` is a mapping; when it is not, reports `problem` at it, followed by what was found.
    mutating func expectMapping(_ node: Node, _ problem: String) -> Bool {
        guard node.mapping == nil else { return true }
        error("\(problem); found \(Self.describe(node))", at: node)
        return false
    }

    /// How many errors have been found so far: a reader compares counts to tell whether the part
    /// it read was sound.
    var errorCount: Int { diagnostics.errors.count }

    /// A scalar's text, or a located error naming what was expected.
    mutating func string(_ node: Node, expected: String) -> String? {
        guard let scalar = node.scalar else {
            error("expected \(expected); found \(Self.describe(node))", at: node)
            return nil
        }
        if scalar.isNull {
            error("expected \(expected); found nothing", at: node)
            return nil
        }
        return scalar.string
    }

    /// `true` or `false`, strictly; `yes`/`no` are errors with a hint.
    mutating func bool(_ node: Node, key: String) -> Bool? {
        guard let text = string(node, expected: "true or false") else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            error("'\(key)' must be true or false; found '\(text)'", at: node)
            return nil
        }
    }

    /// An enum value from its raw text, with "did you mean" on a typo.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ node: Node, key: String, as type: T.Type) -> T?
    where T.RawValue == String {
        let options = T.allCases.map(\.rawValue)
        guard let text = string(node, expected: "one of " + options.joined(separator: ", ")) else { return nil }
        if let value = T(rawValue: text) { return value }
        error("'\(key)' must be one of \(options.joined(separator: ", ")); found '\(text)'"
              + Suggestion.hint(for: text, among: options), at: node)
        return nil
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        case .scalar(let scalar): scalar.isNull ? "nothing" : "'\(scalar.string)'"
        }
    }

    static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
        func located(_ mark: Mark, _ message: String) -> Diagnostic {
            located(line: mark.line, column: mark.column, message)
        }
        func located(line: Int, column: Int, _ message: String) -> Diagnostic {
            .error(message, at: SourceLocation(file: file, line: line, column: column))
        }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let detail = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return located(mark, "YAML syntax: \(problem)\(detail)")
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return located(context.mark, "duplicate key \(keys) in one mapping: each key may appear once")
        case let .reader(problem, offset, _, yaml):
            var line = 1, column = 1
            if let offset {
                let prefix = yaml.utf8.prefix(offset)
                let lines = prefix.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                line = lines.count
                column = (lines.last?.count ?? 0) + 1
            }
            return located(line: line, column: column, "cannot read the file: \(problem)")
        default:
            return located(line: 1, column: 1, "YAML: \(error)")
        }
    }
}

extension Node.Scalar {
    /// Whether the scalar is YAML null (`~`, `null` or nothing), as opposed to a string.
    var isNull: Bool {
        guard style == .plain || style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(string)
    }
}
