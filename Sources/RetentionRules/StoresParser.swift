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
package enum StoresParser: Sendable {
    /// The keys at the top of a stores file.
    enum TopLevelKey: String, FileKey {
        case version, stores
    }

    /// The keys of a store. A files store is one dataset, so it also takes a dataset's keys.
    enum StoreKey: String, MappingKey {
        case kind, path, dsn
        case allowCleartextPassword = "allow-cleartext-password"
        case exec, timeout, datasets, match, rules, fields
        case removeEmptyDirectories = "remove-empty-directories"
        case batchSize = "batch-size", maxDeleteShare = "max-delete-share", maxDeleteCount = "max-delete-count", grace

        /// The keys that a store of any other kind takes only in its datasets.
        static let datasetKeys: [StoreKey] = [.match, .rules, .fields, .removeEmptyDirectories,
                                              .batchSize, .maxDeleteShare, .maxDeleteCount, .grace]
    }

    /// The keys of a dataset.
    enum DatasetKey: String, MappingKey {
        case table, key, rules, fields, anonymize
        case anonymizedAt = "anonymized-at"
        case restrict, match
        case removeEmptyDirectories = "remove-empty-directories"
        case batchSize = "batch-size", maxDeleteShare = "max-delete-share", maxDeleteCount = "max-delete-count", grace
        case partitions
    }

    /// File times a files dataset can count from.
    static let fileTimes = ["mtime", "ctime", "birthtime"]

    /// Parses the text of one stores file. `file` is the name used in diagnostics.
    package static func parse(_ text: String, file: String) -> (stores: [Store], diagnostics: [Diagnostic]) {
        var source = YAMLSource(file: file)
        guard let top = source.topLevel(of: text, as: TopLevelKey.self, contents: ["stores"],
                                        in: "the stores file", versionRequired: false) else {
            return ([], source.diagnostics)
        }
        guard let entry = top[.stores] else {
            source.error("missing 'stores:' in the stores file", at: top.node)
            return ([], source.diagnostics)
        }
        guard source.expectMapping(entry.value, "'stores' must be a mapping from store name to store") else {
            return ([], source.diagnostics)
        }
        var stores: [Store] = []
        for store in source.entries(of: entry.value) {
            if let store = readStore(store, &source) { stores.append(store) }
        }
        return (stores, source.diagnostics)
    }

    /// One store and its sound datasets; nil when the store's own keys have an error.
    static func readStore(_ entry: MappingEntry, _ source: inout YAMLSource) -> Store? {
        let name = entry.key
        let errorsBefore = source.errorCount
        if !RuleReader.isRuleID(name) {
            source.error("store name '\(name)' must be lower-case letters, digits, '-', '_' or '.'", at: entry.keyNode)
        }
        guard var store = MappingReader<StoreKey>(
            entry.value, notAMapping: "store '\(name)' must be a mapping (kind, path, datasets, ...)", &source) else {
            return nil
        }
        store.checkKeys(in: "store '\(name)'", &source)
        guard store[.kind] != nil else {
            source.error("store '\(name)' has no 'kind:' (sqlite, postgres, files or command)", at: entry.keyNode)
            return nil
        }
        guard let kind = store.choice(.kind, as: Store.Kind.self, &source) else { return nil }
        let path = store.text(.path, &source), dsn = store.text(.dsn, &source), exec = store.text(.exec, &source)
        let timeout = store.value(.timeout, expected: "seconds", as: { Int($0).flatMap { $0 > 0 ? $0 : nil } },
                                  otherwise: { "'timeout' must be a whole number of seconds; found '\($0)'" }, &source)
        let connection = connectionKey(of: kind)
        if store[connection] == nil {
            source.error("a \(kind.rawValue) store needs '\(connection.rawValue):'", at: entry.keyNode)
        }
        if kind == .postgres, let dsn, let node = store[.dsn]?.value { checkDSN(dsn, at: node, &source) }
        var allowCleartextPassword = false
        if let permission = store[.allowCleartextPassword] {
            if kind != .postgres { source.error("'allow-cleartext-password' applies to postgres stores only", at: permission.keyNode) }
            allowCleartextPassword = store.bool(.allowCleartextPassword, &source) ?? false
        }

        // A broken dataset is left out on its own; the store stays if its own keys are sound, so
        // that its other datasets are still checked against the rules.
        let storeIsSound = source.errorCount == errorsBefore
        let datasets = kind == .files ? readFilesDataset(entry, store, &source) : readDatasets(entry, store, kind: kind, &source)
        guard storeIsSound else { return nil }
        return Store(id: name, kind: kind, path: path, dsn: dsn, exec: exec, timeoutSeconds: timeout,
                     datasets: datasets, location: source.location(of: entry.keyNode), allowCleartextPassword: allowCleartextPassword)
    }

    /// The key that says where a store of `kind` is.
    static func connectionKey(of kind: Store.Kind) -> StoreKey {
        switch kind {
        case .sqlite, .files: .path
        case .postgres: .dsn
        case .command: .exec
        }
    }

    /// Problems in a PostgreSQL DSN, located in it where that can be known; the messages never quote it.
    static func checkDSN(_ dsn: String, at node: Node, _ source: inout YAMLSource) {
        do {
            let parsed = try PostgresDSN.parse(dsn)
            if let weakness = parsed.weakness { source.warning(weakness, at: node) }
        } catch {
            for problem in error.problems {
                source.diagnostics.append(.error(problem.message, at: source.location(of: node, offset: problem.offset)))
            }
        }
    }

    /// A files store is one dataset, named after the store and read from the store's own keys.
    static func readFilesDataset(_ entry: MappingEntry, _ store: MappingReader<StoreKey>, _ source: inout YAMLSource) -> [Dataset] {
        if let datasets = store[.datasets] {
            source.error("a files store is one dataset: put 'match', 'rules' and 'fields' on the store", at: datasets.keyNode)
            return []
        }
        var reader = DatasetReader(name: entry.key, keyNode: entry.keyNode, kind: .files, store: entry.key,
                                   dataset: store.rekeyed(as: DatasetKey.self))
        return reader.read(&source).map { [$0] } ?? []
    }

    /// The datasets under `datasets:` of a store of any other kind.
    static func readDatasets(_ entry: MappingEntry, _ store: MappingReader<StoreKey>, kind: Store.Kind,
                             _ source: inout YAMLSource) -> [Dataset] {
        for key in StoreKey.datasetKeys {
            if let misplaced = store[key] {
                source.error("'\(key.rawValue)' belongs in a dataset of a \(kind.rawValue) store, under 'datasets:'",
                             at: misplaced.keyNode)
            }
        }
        guard let node = store[.datasets]?.value else {
            source.warning("store '\(entry.key)' has no datasets: nothing in it is governed by a rule", at: entry.keyNode)
            return []
        }
        guard source.expectMapping(node, "'datasets' must be a mapping from dataset name to dataset") else { return [] }
        var datasets: [Dataset] = []
        for dataset in source.entries(of: node) {
            let notAMapping = "dataset '\(dataset.key)' must be a mapping (table, key, rules, fields, ...)"
            guard let keys = MappingReader<DatasetKey>(dataset.value, notAMapping: notAMapping, &source) else { continue }
            keys.checkKeys(in: "dataset '\(dataset.key)'", &source)
            var reader = DatasetReader(name: dataset.key, keyNode: dataset.keyNode, kind: kind, store: entry.key, dataset: keys)
            if let dataset = reader.read(&source) { datasets.append(dataset) }
        }
        return datasets
    }
}

/// Table and column names from YAML are checked to be plain identifiers and always quoted when
/// rendered into SQL; values are always bound parameters.
package enum SQLIdentifier: Sendable {
    /// `name` or `schema.name`, letters, digits and `_`, not starting with a digit.
    package static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { part in
            guard let first = part.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
            return part.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
        }
    }

    /// `"name"` or `"schema"."name"`, double quotes doubled.
    package static func quoted(_ text: String) -> String {
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
