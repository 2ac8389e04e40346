import Foundation
import Yams

/// The keys one kind of mapping may hold, spelt as in the file.
///
/// `allCases` is also the list "did you mean" picks from, in declaration order: of two keys
/// equally close to a typo, the first declared is suggested.
protocol MappingKey: RawRepresentable<String>, CaseIterable, Hashable {}

/// The top-level keys of a file, among which is always `version:`.
protocol FileKey: MappingKey {
    static var version: Self { get }
}

/// One `key: value` of a mapping whose key is a name.
struct MappingEntry {
    /// The key's text.
    let key: String
    let keyNode: Node
    let value: Node
}

/// One mapping of a rules, stores or test file, read key by key.
///
/// Every typed read returns nil when its key is not written. When the value is wrong it reports
/// what was expected and what was found, located at the value, remembers the key as unreadable
/// and returns nil, so that one bad value never stops the rest of the file being checked. A
/// reader function is then a table of reads, in the order their problems are to be reported.
struct MappingReader<Key: MappingKey> {
    /// The mapping, for problems about it as a whole ("this stage has no 'after:'").
    let node: Node
    /// Every entry whose key is a name, known or not, in the order written.
    let entries: [MappingEntry]
    /// The keys whose value a typed read reported wrong, in the order read.
    private(set) var unreadable: [Key] = []

    private init(node: Node, entries: [MappingEntry]) {
        self.node = node
        self.entries = entries
    }

    /// The entries of `node`, or nil when it is not a mapping: then `problem` is reported at it,
    /// followed by what was found. A key that is not a name is reported and skipped.
    init?(_ node: Node, notAMapping problem: @autoclosure () -> String, _ source: inout YAMLSource) {
        guard source.expectMapping(node, problem()) else { return nil }
        self.init(node: node, entries: source.entries(of: node))
    }

    /// The same entries, read with another set of keys and not checked again: a files store is
    /// also its own dataset.
    func rekeyed<Other: MappingKey>(as _: Other.Type) -> MappingReader<Other> {
        MappingReader<Other>(node: node, entries: entries)
    }

    /// The entry of `key`, if written.
    subscript(key: Key) -> MappingEntry? {
        entries.first { $0.key == key.rawValue }
    }

    /// Reports every key that is not a `Key`, with the closest known key as a hint. False when
    /// there was any.
    @discardableResult
    func checkKeys(in context: String, _ source: inout YAMLSource) -> Bool {
        let known = Key.allCases.map(\.rawValue)
        var allKnown = true
        for entry in entries where Key(rawValue: entry.key) == nil {
            source.error("unknown key '\(entry.key)' in \(context)" + Suggestion.hint(for: entry.key, among: known),
                         at: entry.keyNode)
            allKnown = false
        }
        return allKnown
    }

    // MARK: - Typed reads

    /// A scalar's text.
    mutating func string(_ key: Key, expected: String, _ source: inout YAMLSource) -> String? {
        read(key) { source.string($0, expected: expected) }
    }

    /// Free text, such as a title.
    mutating func text(_ key: Key, _ source: inout YAMLSource) -> String? {
        string(key, expected: "text for '\(key.rawValue)'", &source)
    }

    /// `true` or `false`, strictly.
    mutating func bool(_ key: Key, _ source: inout YAMLSource) -> Bool? {
        read(key) { source.bool($0, key: key.rawValue) }
    }

    /// One of an enum's raw values, with "did you mean" on a typo.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ key: Key, as type: T.Type, _ source: inout YAMLSource) -> T?
    where T.RawValue == String {
        read(key) { source.choice($0, key: key.rawValue, as: type) }
    }

    /// A scalar's text converted by `convert`; when that gives nil, `problem(text)` is reported
    /// at the value.
    mutating func value<T>(_ key: Key, expected: String, as convert: (String) -> T?,
                           otherwise problem: (String) -> String, _ source: inout YAMLSource) -> T? {
        read(key) { (node: Node) -> T? in
            guard let text = source.string(node, expected: expected) else { return nil }
            guard let value = convert(text) else {
                source.error(problem(text), at: node)
                return nil
            }
            return value
        }
    }

    /// A scalar parsed by a parser of the language; its syntax error is reported as
    /// `'KEY': MESSAGE`, at the column it names when `pointing` and that column can be known
    /// exactly, at the value otherwise.
    mutating func parsed<T, Failure: ScalarSyntaxError>(_ key: Key, expected: String, pointing: Bool = true,
                                                        _ parse: (String) throws(Failure) -> T,
                                                        _ source: inout YAMLSource) -> T? {
        read(key) { (node: Node) -> T? in
            guard let text = source.string(node, expected: expected) else { return nil }
            do throws(Failure) {
                return try parse(text)
            } catch {
                let location = pointing ? source.location(of: node, offset: error.offset) : source.location(of: node)
                source.diagnostics.append(.error("'\(key.rawValue)': \(error.message)", at: location))
                return nil
            }
        }
    }

    /// A period of the rules language (`10y`, `14 months`), located to the column on a mistake.
    mutating func duration(_ key: Key, _ source: inout YAMLSource) -> Period? {
        parsed(key, expected: "a duration for '\(key.rawValue)', \(Period.expectedForm)", Period.parse, &source)
    }

    /// An IANA time zone, as the calendar of its dates, with "did you mean" on a typo.
    mutating func timeZone(_ key: Key, _ source: inout YAMLSource) -> RetentionCalendar? {
        value(key, expected: "an IANA time zone such as Europe/Brussels", as: { RetentionCalendar(identifier: $0) },
              otherwise: { name in
                  "unknown time zone '\(name)': expected an IANA zone name such as Europe/Brussels"
                      + Suggestion.hint(for: name, among: TimeZone.knownTimeZoneIdentifiers)
              }, &source)
    }

    /// A nested mapping with keys of its own; when the value is not a mapping, `problem` is
    /// reported at it, followed by what was found.
    mutating func mapping<Inner: MappingKey>(_ key: Key, as _: Inner.Type, notAMapping problem: @autoclosure () -> String,
                                             _ source: inout YAMLSource) -> MappingReader<Inner>? {
        read(key) { MappingReader<Inner>($0, notAMapping: problem(), &source) }
    }

    /// The texts of a list, or of a single value written on its own, each with its node; an item
    /// that is not text is reported and left out.
    mutating func strings(_ key: Key, expected: String, _ source: inout YAMLSource) -> [(text: String, node: Node)]? {
        guard let entry = self[key] else { return nil }
        var result: [(text: String, node: Node)] = []
        for item in entry.value.sequence.map(Array.init) ?? [entry.value] {
            if let text = source.string(item, expected: expected) { result.append((text, item)) } else { unreadable.append(key) }
        }
        return result
    }

    /// The entries of a mapping from names the file chooses (fields, records) to values.
    func entries(_ key: Key, _ source: inout YAMLSource) -> [MappingEntry]? {
        self[key].map { source.entries(of: $0.value) }
    }

    /// The value of `key` through `read`, which reports its own problem and gives nil.
    private mutating func read<T>(_ key: Key, _ read: (Node) -> T?) -> T? {
        guard let entry = self[key] else { return nil }
        let value = read(entry.value)
        if value == nil { unreadable.append(key) }
        return value
    }
}
