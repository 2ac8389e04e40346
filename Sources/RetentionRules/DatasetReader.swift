import Yams

/// Reads one dataset's mapping (a dataset under a store's `datasets:`, or a files store itself),
/// checking each key against the kind of its store.
struct DatasetReader {
    typealias Key = StoresParser.DatasetKey

    let name: String
    let keyNode: Node
    let kind: Store.Kind
    /// The store's name, for messages.
    let store: String
    private var dataset: MappingReader<Key>
    /// Where the rules, tables and columns are written, for the cross-checks' messages.
    private var locations: [String: SourceLocation] = [:]

    init(name: String, keyNode: Node, kind: Store.Kind, store: String, dataset: MappingReader<Key>) {
        self.name = name
        self.keyNode = keyNode
        self.kind = kind
        self.store = store
        self.dataset = dataset
    }

    /// The dataset, or nil when reading it found an error; every problem found is reported, in
    /// the order of its keys' reads below.
    mutating func read(_ source: inout YAMLSource) -> Dataset? {
        let errorsBefore = source.errorCount
        if let rules = dataset[.rules] { locations["rules"] = source.location(of: rules.keyNode) }
        let table = identifier(.table, &source), key = identifier(.key, &source), restrict = identifier(.restrict, &source)
        let anonymizedAt = identifier(.anonymizedAt, &source)
        if kind == .sqlite || kind == .postgres {
            if dataset[.table] == nil { source.error("dataset '\(name)' of store '\(store)' needs 'table:'", at: keyNode) }
            if dataset[.key] == nil {
                source.error("dataset '\(name)' of store '\(store)' needs 'key:' (the primary key column)", at: keyNode)
            }
        }
        let match = dataset.string(.match, expected: "a file name pattern such as '*.log'", &source)
        let rules = dataset.strings(.rules, expected: "a rule id", &source)
        if rules == nil { source.error("dataset '\(name)' has no 'rules:': which retention rules apply to it?", at: keyNode) }
        let fields = readFields(&source)
        let anonymize = readAnonymize(&source)
        var removeEmpty = false
        if let entry = dataset[.removeEmptyDirectories] {
            if kind != .files { source.error("'remove-empty-directories' applies to files stores only", at: entry.keyNode) }
            removeEmpty = dataset.bool(.removeEmptyDirectories, &source) ?? false
        }
        if let entry = dataset[.anonymizedAt], kind == .files {
            source.error("files cannot be anonymized, only deleted", at: entry.keyNode)
        }
        if anonymizedAt == nil, let entry = dataset[.anonymize],
           let column = anonymize.sorted(by: { $0.key < $1.key }).first(where: { !$0.value.isRecognisable }) {
            source.error("'\(column.key): \(column.value)' leaves no sign that a record was anonymized: add 'anonymized-at: COLUMN' "
                         + "(a nullable timestamp column retentiond sets), so that no record is anonymized twice", at: entry.keyNode)
        }
        let limits = readLimits(&source)
        let partitions = readPartitions(&source)
        guard source.errorCount == errorsBefore else { return nil }
        return Dataset(id: name, table: table, key: key, match: match, rules: rules?.map { $0.text } ?? [], fields: fields,
                       anonymize: anonymize, restrictColumn: restrict, anonymizedColumn: anonymizedAt, limits: limits,
                       removeEmptyDirectories: removeEmpty, location: source.location(of: keyNode), locations: locations,
                       partitions: partitions ?? .drop)
    }

    /// `partitions: drop | detach | rows`, which only a PostgreSQL table can have.
    private mutating func readPartitions(_ source: inout YAMLSource) -> PartitionMode? {
        guard let entry = dataset[.partitions] else { return nil }
        locations["partitions"] = source.location(of: entry.value)
        if kind != .postgres {
            source.error("'partitions' applies to PostgreSQL tables only (kind: postgres); this store is \(kind.rawValue)", at: entry.keyNode)
        }
        let names = PartitionMode.allCases.map(\.rawValue)
        return dataset.value(.partitions, expected: names.joined(separator: ", "), as: PartitionMode.init(rawValue:),
                             otherwise: { "'partitions' must be one of \(names.joined(separator: ", ")); found '\($0)'" + Suggestion.hint(for: $0, among: names) },
                             &source)
    }

    /// A table or column name, and where it is written. One that is not a plain identifier is
    /// reported, which leaves the dataset out.
    private mutating func identifier(_ key: Key, _ source: inout YAMLSource) -> String? {
        guard let entry = dataset[key] else { return nil }
        locations[key.rawValue] = source.location(of: entry.value)
        guard let text = dataset.string(key, expected: "a column or table name", &source) else { return nil }
        if !SQLIdentifier.isValid(text) {
            source.error("'\(text)' is not a plain SQL identifier (letters, digits, '_', optionally schema.name)", at: entry.value)
        }
        return text
    }

    /// `fields:`, logical field to column, or to a file time in a files dataset.
    private mutating func readFields(_ source: inout YAMLSource) -> [String: String] {
        guard let entry = dataset[.fields] else { return [:] }
        _ = source.expectMapping(entry.value, "'fields' must map logical fields to columns ({created_at: ts})")
        var fields: [String: String] = [:]
        for field in source.entries(of: entry.value) {
            guard let column = source.string(field.value, expected: "a column name") else { continue }
            if kind == .files {
                if !StoresParser.fileTimes.contains(column) {
                    source.error("a files dataset counts from a file time: expected one of "
                                 + "\(StoresParser.fileTimes.joined(separator: ", ")); found '\(column)'"
                                 + Suggestion.hint(for: column, among: StoresParser.fileTimes), at: field.value)
                }
            } else if !SQLIdentifier.isValid(column) {
                source.error("'\(column)' is not a plain SQL column name", at: field.value)
            }
            fields[field.key] = column
            locations["fields." + field.key] = source.location(of: field.value)
        }
        return fields
    }

    /// `anonymize:`, column to strategy.
    private mutating func readAnonymize(_ source: inout YAMLSource) -> [String: AnonymizationStrategy] {
        guard let entry = dataset[.anonymize] else { return [:] }
        if kind == .files {
            source.error("files cannot be anonymized, only deleted", at: entry.keyNode)
        }
        var anonymize: [String: AnonymizationStrategy] = [:]
        for column in source.entries(of: entry.value) {
            locations["anonymize." + column.key] = source.location(of: column.keyNode)
            if !SQLIdentifier.isValid(column.key) {
                source.error("'\(column.key)' is not a plain SQL column name", at: column.keyNode)
            }
            if let strategy = Self.strategy(column.value, &source) { anonymize[column.key] = strategy }
        }
        return anonymize
    }

    /// One strategy: a name such as `hmac-sha256`, or `{fixed: VALUE}`.
    private static func strategy(_ node: Node, _ source: inout YAMLSource) -> AnonymizationStrategy? {
        if node.mapping != nil {
            let inner = source.entries(of: node)
            if inner.count == 1, let only = inner.first, only.key == "fixed", let fixed = only.value.scalar?.string {
                return .fixed(fixed)
            }
            source.error("a fixed value is written {fixed: VALUE}", at: node)
            return nil
        }
        if let text = source.string(node, expected: "an anonymization strategy"), let strategy = AnonymizationStrategy.parse(text) {
            return strategy
        }
        if let text = node.scalar?.string {
            source.error("unknown anonymization strategy '\(text)': expected \(AnonymizationStrategy.names.joined(separator: ", ")) "
                         + "or {fixed: VALUE}" + Suggestion.hint(for: text, among: AnonymizationStrategy.names), at: node)
        }
        return nil
    }

    /// The limits on a job of this dataset.
    private mutating func readLimits(_ source: inout YAMLSource) -> DatasetLimits {
        let batchSize = count(.batchSize, &source)
        let maxDeleteCount = count(.maxDeleteCount, &source)
        let maxDeleteShare = dataset.value(.maxDeleteShare, expected: "a percentage such as 25%", as: { text in
            let share = text.hasSuffix("%") ? Double(text.dropLast()).map { $0 / 100 } : nil
            return share.flatMap { (0...1).contains($0) ? $0 : nil }
        }, otherwise: { "'max-delete-share' must be a percentage from 0% to 100%, such as 25%; found '\($0)'" }, &source)
        let grace = dataset.parsed(.grace, expected: "a duration such as 2d", pointing: false, Period.parse, &source)
        return DatasetLimits(batchSize: batchSize, maxDeleteShare: maxDeleteShare, maxDeleteCount: maxDeleteCount, grace: grace)
    }

    private mutating func count(_ key: Key, _ source: inout YAMLSource) -> Int? {
        dataset.value(key, expected: "a whole number", as: { Int($0).flatMap { $0 > 0 ? $0 : nil } },
                      otherwise: { "'\(key.rawValue)' must be a whole number above 0; found '\($0)'" }, &source)
    }
}
