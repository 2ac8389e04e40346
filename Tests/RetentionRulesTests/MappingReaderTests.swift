@testable import RetentionRules
import Testing
import Yams

/// The reader every YAML mapping of the formats goes through: its keys, its typed reads and the
/// problems they report. The formats' own messages are pinned by the golden and stores tests.
@Suite("Mapping reader")
struct MappingReaderTests {
    enum SampleKey: String, MappingKey {
        case title, retain, lock, kind, zone
        case enforcedBy = "enforced-by"
    }

    enum OtherKey: String, MappingKey {
        case title, extra
    }

    /// A reader over `text`'s top-level mapping, and the source its problems go to.
    static func reader(_ text: String) throws -> (MappingReader<SampleKey>, YAMLSource) {
        var source = YAMLSource(file: "t.yaml")
        let composed = source.compose(text)
        let node = try #require(composed)
        let read = MappingReader<SampleKey>(node, notAMapping: "expected a mapping", &source)
        return (try #require(read), source)
    }

    @Test("an unknown key is reported with the closest known key, taken from the key enum")
    func unknownKey() throws {
        var (reader, source) = try Self.reader("retian: 10y\nenforced_by: browser\nlock: true\n")
        #expect(!reader.checkKeys(in: "the sample", &source))
        #expect(source.diagnostics.map(\.description) == [
            "t.yaml:1:1: error: unknown key 'retian' in the sample; did you mean 'retain'?",
            "t.yaml:2:1: error: unknown key 'enforced_by' in the sample; did you mean 'enforced-by'?",
        ])
        #expect(reader.bool(.lock, &source) == true)
    }

    @Test("a key not written reads as nil and reports nothing")
    func absent() throws {
        var (reader, source) = try Self.reader("title: x\n")
        #expect(reader.duration(.retain, &source) == nil)
        #expect(reader.choice(.kind, as: Kind.self, &source) == nil)
        #expect(reader.strings(.zone, expected: "a zone", &source) == nil)
        #expect(source.diagnostics.isEmpty)
        #expect(reader.unreadable.isEmpty)
    }

    @Test("a wrong value is reported at the value, read as nil and remembered as unreadable")
    func wrongValues() throws {
        var (reader, source) = try Self.reader("title: [a, b]\nretain: 10 m\nlock: yes\nkind: purpse\n")
        #expect(reader.text(.title, &source) == nil)
        #expect(reader.duration(.retain, &source) == nil)
        #expect(reader.bool(.lock, &source) == nil)
        #expect(reader.choice(.kind, as: Kind.self, &source) == nil)
        #expect(reader.unreadable == [.title, .retain, .lock, .kind])
        let messages = source.diagnostics.map(\.description)
        #expect(messages.count == 4)
        #expect(messages.first == "t.yaml:1:8: error: expected text for 'title'; found a list")
        #expect(messages.dropFirst().first?.hasPrefix("t.yaml:2:") == true)
        #expect(messages.dropFirst(2).first == "t.yaml:3:7: error: 'lock' must be true or false; found 'yes'")
        #expect(messages.last?.hasSuffix("found 'purpse'; did you mean 'purpose'?") == true)
    }

    @Test("a converted value reports the reader's own message when the conversion fails")
    func converted() throws {
        var (reader, source) = try Self.reader("zone: 7x\n")
        let number = reader.value(.zone, expected: "a number", as: { Int($0) }, otherwise: { "'\($0)' is no number" }, &source)
        #expect(number == nil)
        #expect(source.diagnostics.map(\.description) == ["t.yaml:1:7: error: '7x' is no number"])
    }

    @Test("a list or a single value reads as texts; an item that is not text is reported and left out")
    func strings() throws {
        var (reader, source) = try Self.reader("title: [a, [b], c]\nzone: one\n")
        #expect(reader.strings(.title, expected: "a name", &source)?.map(\.text) == ["a", "c"])
        #expect(reader.strings(.zone, expected: "a name", &source)?.map(\.text) == ["one"])
        #expect(source.diagnostics.map(\.description) == ["t.yaml:1:12: error: expected a name; found a list"])
    }

    @Test("the same entries read with another key enum")
    func rekeyed() throws {
        var (reader, source) = try Self.reader("title: x\nextra: y\n")
        var other = reader.rekeyed(as: OtherKey.self)
        #expect(other.text(.extra, &source) == "y")
        #expect(other.checkKeys(in: "the other", &source))
        #expect(!reader.checkKeys(in: "the sample", &source))
    }

    @Test("a value that is not a mapping is reported as the reader's problem and what was found")
    func notAMapping() throws {
        var source = YAMLSource(file: "t.yaml")
        let composed = source.compose("- a\n")
        let node = try #require(composed)
        let read = MappingReader<SampleKey>(node, notAMapping: "the sample must be a mapping", &source)
        #expect(read == nil)
        #expect(source.diagnostics.map(\.description) == ["t.yaml:1:1: error: the sample must be a mapping; found a list"])
    }
}
