import Foundation
import RetentionRules
import Testing

/// The repository's `rules/` encode the seed policies: they must lint clean and the schedule must
/// list every rule, each citing its seed.
@Suite("Seed rules")
struct SeedRulesTests {
    static func load() throws -> RulesLoad { try RuleSet.load(paths: [Fixtures.rules.path]) }

    /// Rule ids counted straight from the text (two-space keys under `rules:`), independently of
    /// the parser, so that a rule the parser silently dropped would show.
    static func idsInText() throws -> [String] {
        var ids: [String] = []
        for file in try ConfigurationFiles.yamlFiles(in: Fixtures.rules.path) {
            var inRules = false
            for line in try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("rules:") { inRules = true; continue }
                if let first = line.first, first != " ", first != "#" { inRules = false }
                if inRules, line.hasPrefix("  "), !line.hasPrefix("   "), line.hasSuffix(":"), !line.contains("#") {
                    ids.append(String(line.dropFirst(2).dropLast()))
                }
            }
        }
        return ids
    }

    @Test("rules/ lints with zero errors")
    func lintsClean() throws {
        let load = try Self.load()
        #expect(load.diagnostics.errors.isEmpty, "\(load.diagnostics.errors.map(\.description).joined(separator: "\n"))")
        #expect(load.ruleSet.files.count == 5, "one file per controller")
    }

    @Test("the schedule lists every rule written in rules/")
    func scheduleComplete() throws {
        let schedule = Schedule(try Self.load().ruleSet)
        let ids = try Self.idsInText()
        #expect(ids.count > 40)
        #expect(schedule.rules.map(\.id).sorted() == ids.sorted())
    }

    @Test("every rule cites its seed file and a section; every seed is cited")
    func sources() throws {
        // The five source policies; when ../shared/seeds is beside the checkout, it must agree.
        let seeds = ["000_797b2d12eaac5dad.txt", "001_4452189746e6f611.txt", "002_fcb8a0eedd050191.txt",
                     "003_501a5d4539394ed4.txt", "004_83e146e3e31efcfc.txt"]
        if let present = try? FileManager.default.contentsOfDirectory(atPath: Fixtures.seeds.path) {
            #expect(Set(present.filter { $0.hasSuffix(".txt") }) == Set(seeds))
        }
        let rules = try Self.load().ruleSet.rules
        for rule in rules {
            let source = rule.source ?? ""
            #expect(seeds.contains { source.hasPrefix($0) } && source.contains("§"), "\(rule.id): source '\(source)'")
            #expect(rule.title != nil, "\(rule.id) has no title")
            if rule.ambiguous { #expect(rule.note != nil) }
        }
        for seed in seeds {
            #expect(rules.contains { $0.source?.hasPrefix(seed) == true }, "no rule cites \(seed)")
        }
    }

    @Test("the headline periods of the brief are encoded", arguments: ["10y", "7y", "365d", "35d", "1y", "14mo"])
    func headlinePeriods(period: String) throws {
        let rules = try Self.load().ruleSet.rules
        #expect(rules.contains { $0.retention.stages.contains { $0.after.description == period } })
    }

    @Test("ambiguous rules and rules enforced elsewhere are in the schedule and flagged")
    func flags() throws {
        let schedule = Schedule(try Self.load().ruleSet)
        #expect(schedule.rules.contains { $0.ambiguous })
        #expect(schedule.rules.contains { $0.enforcedBy == "browser" && !$0.enforceable })
        #expect(schedule.rules.contains { $0.enforcedBy == "vendor" && !$0.enforceable })
    }

    @Test("the schedule's JSON carries every documented key")
    func jsonKeys() throws {
        let schedule = Schedule(try Self.load().ruleSet)
        let data = try JSONEncoder().encode(schedule)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["format"] as? String == "retentiond-schedule")
        #expect(object["version"] as? Int == 1)
        let first = try #require((object["rules"] as? [[String: Any]])?.first)
        let keys = ["id", "title", "kind", "stages", "from", "align", "timezone", "when", "deadline", "lock", "review",
                    "basis", "source", "note", "ambiguous", "enforced_by", "enforceable", "file", "line"]
        #expect(Set(first.keys) == Set(keys))
        #expect(try JSONDecoder().decode(Schedule.self, from: data) == schedule)
    }
}
