import Foundation
import Yams

/// Reads one stores file into stores, reporting every problem with its location, like the rules.
///
/// ```yaml
/// version: 1
/// stores:
///   crm:
///     kind: sqlite
///     path: /var/lib/crm/crm.sqlite
///     datasets:
///       contracts: {table: contracts, key: id, rules: [contracts], fields: {contract_end: ended_at}}
///   kfs-logs:                      # a files store is one dataset: its keys sit on the store
///     kind: files
///     path: /var/log/kfs
///     match: "*.log"
///     rules: [device-logs]
///     fields: {created_at: mtime}
/// ```
public enum StoresParser: Sendable {
    static let topLevelKeys = ["version", "stores"]
    static let limitKeys = ["batch-size", "max-delete-share", "max-delete-count", "grace"]
    static let storeKeys = ["kind", "path", "dsn", "allow-cleartext-password", "exec", "timeout", "datasets",
                            "match", "rules", "fields", "remove-empty-directories"] + limitKeys
    static let datasetKeys = ["table", "key", "rules", "fields", "anonymize", "anonymized-at", "restrict", "match",
                              "remove-empty-directories"] + limitKeys
    /// File times a files dataset can count from.
    public static let fileTimes = ["mtime", "ctime", "birthtime"]

    /// Parses the text of one stores file. `file` is the name used in diagnostics.
    public static func parse(_ text: String, file: String) -> (stores: [Store], diagnostics: [Diagnostic]) {
        var source = YAMLSource(file: file)
        guard let (root, top) = source.topLevel(of: text, known: topLevelKeys, contents: ["stores"],
                                                in: "the stores file", versionRequired: false) else {
            return ([], source.diagnostics)
        }
        guard let storesNode = top.first(where: { $0.key == "stores" }) else {
            source.error("missing 'stores:' in the stores file", at: root)
            return ([], source.diagnostics)
        }
        guard storesNode.value.mapping != nil else {
            source.error("'stores' must be a mapping from store name to store; found \(YAMLSource.describe(storesNode.value))",
                         at: storesNode.value)
            return ([], source.diagnostics)
        }
        var stores: [Store] = []
        for pair in source.pairs(of: storesNode.value) {
            if let store = readStore(pair.key, keyNode: pair.keyNode, node: pair.value, source: &source) {
                stores.append(store)
            }
        }
        return (stores, source.diagnostics)
    }

    static func readStore(_ name: String, keyNode: Node, node: Node, source: inout YAMLSource) -> Store? {
        let errorsBefore = source.diagnostics.errors.count
        if !RuleReader.isRuleID(name) {
            source.error("store name '\(name)' must be lower-case letters, digits, '-', '_' or '.'", at: keyNode)
        }
        guard node.mapping != nil else {
            source.error("store '\(name)' must be a mapping (kind, path, datasets, ...); found \(YAMLSource.describe(node))", at: node)
            return nil
        }
        let pairs = source.pairs(of: node)
        source.checkKeys(of: pairs, known: storeKeys, in: "store '\(name)'")
        let value = { (key: String) in pairs.first { $0.key == key } }
        guard let kindNode = value("kind") else {
            source.error("store '\(name)' has no 'kind:' (sqlite, postgres, files or command)", at: keyNode)
            return nil
        }
        guard let kind = source.choice(kindNode.value, key: "kind", as: Store.Kind.self) else { return nil }
        func text(_ key: String) -> String? {
            value(key).flatMap { source.string($0.value, expected: "text for '\(key)'") }
        }
        let path = text("path"), dsn = text("dsn"), exec = text("exec")
        var timeout: Int?
        if let node = value("timeout")?.value, let raw = source.string(node, expected: "seconds") {
            if let seconds = Int(raw), seconds > 0 { timeout = seconds } else {
                source.error("'timeout' must be a whole number of seconds; found '\(raw)'", at: node)
            }
        }
        let required: [Store.Kind: String] = [.sqlite: "path", .files: "path", .postgres: "dsn", .command: "exec"]
        if let key = required[kind], value(key) == nil {
            source.error("a \(kind.rawValue) store needs '\(key):'", at: keyNode)
        }
        if kind == .postgres, let dsn, let node = value("dsn")?.value {
            do {
                let parsed = try PostgresDSN.parse(dsn)
                if let weakness = parsed.weakness { source.warning(weakness, at: node) }
            } catch {
                // Located in the DSN where that can be known; the messages never quote it.
                for problem in error.problems {
                    source.diagnostics.append(.error(problem.message, at: source.location(of: node, offset: problem.offset)))
                }
            }
        }
        var allowCleartextPassword = false
        if let pair = value("allow-cleartext-password") {
            if kind != .postgres { source.error("'allow-cleartext-password' applies to postgres stores only", at: pair.keyNode) }
            allowCleartextPassword = source.bool(pair.value, key: "allow-cleartext-password") ?? false
        }

        // A broken dataset is left out on its own; the store stays if its own keys are sound, so
        // that its other datasets are still checked against the rules.
        let storeIsSound = source.diagnostics.errors.count == errorsBefore
        var datasets: [Dataset] = []
        if kind == .files {
            if value("datasets") != nil {
                source.error("a files store is one dataset: put 'match', 'rules' and 'fields' on the store", at: value("datasets")!.keyNode)
            } else if let dataset = readDataset(name, keyNode: keyNode, pairs: pairs, kind: kind, inStore: name, source: &source) {
                datasets.append(dataset)
            }
        } else {
            for key in ["match", "rules", "fields", "remove-empty-directories"] + limitKeys where value(key) != nil {
                source.error("'\(key)' belongs in a dataset of a \(kind.rawValue) store, under 'datasets:'", at: value(key)!.keyNode)
            }
            if let node = value("datasets")?.value {
                if node.mapping == nil {
                    source.error("'datasets' must be a mapping from dataset name to dataset; found \(YAMLSource.describe(node))", at: node)
                } else {
                    for pair in source.pairs(of: node) {
                        guard pair.value.mapping != nil else {
                            source.error("dataset '\(pair.key)' must be a mapping (table, key, rules, fields, ...); found \(YAMLSource.describe(pair.value))",
                                         at: pair.value)
                            continue
                        }
                        let datasetPairs = source.pairs(of: pair.value)
                        source.checkKeys(of: datasetPairs, known: datasetKeys, in: "dataset '\(pair.key)'")
                        if let dataset = readDataset(pair.key, keyNode: pair.keyNode, pairs: datasetPairs, kind: kind,
                                                     inStore: name, source: &source) {
                            datasets.append(dataset)
                        }
                    }
                }
            } else {
                source.warning("store '\(name)' has no datasets: nothing in it is governed by a rule", at: keyNode)
            }
        }
        guard storeIsSound else { return nil }
        return Store(id: name, kind: kind, path: path, dsn: dsn, exec: exec, timeoutSeconds: timeout,
                     datasets: datasets, location: source.location(of: keyNode), allowCleartextPassword: allowCleartextPassword)
    }

    static func readDataset(_ name: String, keyNode: Node, pairs: [(key: String, keyNode: Node, value: Node)],
                            kind: Store.Kind, inStore store: String,
                            source: inout YAMLSource) -> Dataset? {
        let errorsBefore = source.diagnostics.errors.count
        let value = { (key: String) in pairs.first { $0.key == key } }
        var locations: [String: SourceLocation] = [:]
        if let rules = value("rules") { locations["rules"] = source.location(of: rules.keyNode) }
        func identifier(_ key: String) -> String? {
            guard let pair = value(key) else { return nil }
            locations[key] = source.location(of: pair.value)
            guard let text = source.string(pair.value, expected: "a column or table name") else { return nil }
            if !SQLIdentifier.isValid(text) {
                source.error("'\(text)' is not a plain SQL identifier (letters, digits, '_', optionally schema.name)", at: pair.value)
            }
            return text
        }
        let table = identifier("table"), key = identifier("key"), restrict = identifier("restrict")
        let anonymizedAt = identifier("anonymized-at")
        if kind == .sqlite || kind == .postgres {
            if table == nil, value("table") == nil { source.error("dataset '\(name)' of store '\(store)' needs 'table:'", at: keyNode) }
            if key == nil, value("key") == nil { source.error("dataset '\(name)' of store '\(store)' needs 'key:' (the primary key column)", at: keyNode) }
        }
        let match = value("match").flatMap { source.string($0.value, expected: "a file name pattern such as '*.log'") }

        var rules: [String] = []
        if let node = value("rules")?.value {
            let items = node.sequence.map(Array.init) ?? [node]
            for item in items {
                if let id = source.string(item, expected: "a rule id") { rules.append(id) }
            }
        } else {
            source.error("dataset '\(name)' has no 'rules:': which retention rules apply to it?", at: keyNode)
        }

        var fields: [String: String] = [:]
        if let node = value("fields")?.value {
            if node.mapping == nil {
                source.error("'fields' must map logical fields to columns ({created_at: ts}); found \(YAMLSource.describe(node))", at: node)
            }
            for pair in source.pairs(of: node) {
                guard let column = source.string(pair.value, expected: "a column name") else { continue }
                if kind == .files {
                    if !fileTimes.contains(column) {
                        source.error("a files dataset counts from a file time: expected one of \(fileTimes.joined(separator: ", ")); found '\(column)'"
                                     + Suggestion.hint(for: column, among: fileTimes), at: pair.value)
                    }
                } else if !SQLIdentifier.isValid(column) {
                    source.error("'\(column)' is not a plain SQL column name", at: pair.value)
                }
                fields[pair.key] = column
                locations["fields." + pair.key] = source.location(of: pair.value)
            }
        }

        var anonymize: [String: AnonymizationStrategy] = [:]
        if let pair = value("anonymize") {
            if kind == .files {
                source.error("files cannot be anonymized, only deleted", at: pair.keyNode)
            }
            for column in source.pairs(of: pair.value) {
                locations["anonymize." + column.key] = source.location(of: column.keyNode)
                if !SQLIdentifier.isValid(column.key) {
                    source.error("'\(column.key)' is not a plain SQL column name", at: column.keyNode)
                }
                if column.value.mapping != nil {
                    let inner = source.pairs(of: column.value)
                    if inner.count == 1, inner[0].key == "fixed", let fixed = inner[0].value.scalar?.string {
                        anonymize[column.key] = .fixed(fixed)
                    } else {
                        source.error("a fixed value is written {fixed: VALUE}", at: column.value)
                    }
                } else if let text = source.string(column.value, expected: "an anonymization strategy"),
                          let strategy = AnonymizationStrategy.parse(text) {
                    anonymize[column.key] = strategy
                } else if let text = column.value.scalar?.string {
                    source.error("unknown anonymization strategy '\(text)': expected \(AnonymizationStrategy.names.joined(separator: ", ")) or {fixed: VALUE}"
                                 + Suggestion.hint(for: text, among: AnonymizationStrategy.names), at: column.value)
                }
            }
        }
        var removeEmpty = false
        if let pair = value("remove-empty-directories") {
            if kind != .files { source.error("'remove-empty-directories' applies to files stores only", at: pair.keyNode) }
            removeEmpty = source.bool(pair.value, key: "remove-empty-directories") ?? false
        }
        if let pair = value("anonymized-at"), kind == .files {
            source.error("files cannot be anonymized, only deleted", at: pair.keyNode)
        }
        if anonymizedAt == nil, let pair = value("anonymize"),
           let column = anonymize.sorted(by: { $0.key < $1.key }).first(where: { !$0.value.isRecognisable }) {
            source.error("'\(column.key): \(column.value)' leaves no sign that a record was anonymized: add 'anonymized-at: COLUMN' "
                         + "(a nullable timestamp column retentiond sets), so that no record is anonymized twice", at: pair.keyNode)
        }
        let limits = readLimits(pairs, source: &source)
        guard source.diagnostics.errors.count == errorsBefore else { return nil }
        return Dataset(id: name, table: table, key: key, match: match, rules: rules, fields: fields, anonymize: anonymize,
                       restrictColumn: restrict, anonymizedColumn: anonymizedAt, limits: limits,
                       removeEmptyDirectories: removeEmpty, location: source.location(of: keyNode), locations: locations)
    }

    static func readLimits(_ pairs: [(key: String, keyNode: Node, value: Node)], source: inout YAMLSource) -> DatasetLimits {
        var limits = DatasetLimits()
        let value = { (key: String) in pairs.first { $0.key == key }?.value }
        func count(_ key: String) -> Int? {
            guard let node = value(key), let raw = source.string(node, expected: "a whole number") else { return nil }
            guard let number = Int(raw), number > 0 else {
                source.error("'\(key)' must be a whole number above 0; found '\(raw)'", at: node)
                return nil
            }
            return number
        }
        limits.batchSize = count("batch-size")
        limits.maxDeleteCount = count("max-delete-count")
        if let node = value("max-delete-share"), let raw = source.string(node, expected: "a percentage such as 25%") {
            let number = raw.hasSuffix("%") ? Double(raw.dropLast()).map { $0 / 100 } : nil
            if let number, (0...1).contains(number) { limits.maxDeleteShare = number } else {
                source.error("'max-delete-share' must be a percentage from 0% to 100%, such as 25%; found '\(raw)'", at: node)
            }
        }
        if let node = value("grace"), let raw = source.string(node, expected: "a duration such as 2d") {
            do { limits.grace = try Duration.parse(raw) } catch {
                source.error("'grace': \(error.message)", at: node)
            }
        }
        return limits
    }
}

/// Table and column names from YAML are checked to be plain identifiers and always quoted when
/// rendered into SQL; values are always bound parameters.
public enum SQLIdentifier: Sendable {
    /// `name` or `schema.name`, letters, digits and `_`, not starting with a digit.
    public static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { part in
            guard let first = part.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
            return part.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
        }
    }

    /// `"name"` or `"schema"."name"`, double quotes doubled.
    public static func quoted(_ text: String) -> String {
        // Every predicate of a plan quotes its columns: the plain name, the common case, skips Foundation's search.
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: ".") }) { return "\"" + text + "\"" }
        // Quotes are doubled scalar by scalar, as SQL reads them: `replacingOccurrences` compares
        // characters, and a quote followed by a combining mark is one character that is not `"`.
        return text.split(separator: ".").map { part in
            var scalars = String.UnicodeScalarView()
            scalars.append("\"")
            for scalar in part.unicodeScalars {
                scalars.append(scalar)
                if scalar == "\"" { scalars.append(scalar) }
            }
            scalars.append("\"")
            return String(scalars)
        }.joined(separator: ".")
    }
}
