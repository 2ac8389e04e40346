import ArgumentParser
import Foundation
import RetentionEngine
import RetentionRules

/// `retentionctl explain STORE DATASET KEY`: why one record is kept, or when it goes.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show every rule that applies to one record, its due instant per stage, which wins and why, and any hold."
    )

    @OptionGroup var setup: EngineSetup

    @Argument(help: "The store.") var store: String
    @Argument(help: "The dataset.") var dataset: String
    @Argument(help: "The record's key (files: the path relative to the store).") var key: String

    @Option(help: "Explain as of this instant (default now).")
    var at: String?

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func run() async throws {
        let now = try at.map(parseInstant) ?? Date()
        let engine = try setup.engine()
        let found: Explanation?
        do { found = try await engine.explain(store: store, dataset: dataset, key: RecordKey(parsing: key), at: now) } catch {
            Output.error("retentionctl: \(error)")
            throw ExitCode(1)
        }
        guard let explanation = found else {
            Output.error("retentionctl: no record with key \(key) in \(store)/\(dataset)")
            throw ExitCode(1)
        }
        if format == .json { try printJSON(View(explanation)); return }
        print("\(store)/\(dataset) key \(key), as of \(TimeText.iso(now))")
        for (column, value) in explanation.record.sorted(by: { $0.key < $1.key }) { print("  \(column) = \(value)") }
        for verdict in explanation.verdicts {
            let rule = verdict.rule
            print("\nrule \(rule.id)" + (rule.title.map { " — \($0)" } ?? ""))
            if let condition = rule.condition { print("  when \(condition): \(verdict.applies ? "holds" : "does not hold, so the rule does not apply")") }
            guard verdict.applies else { continue }
            switch rule.retention {
            case .forever: print("  keeps the record forever"); continue
            case .never: print("  retain: none — the record must not exist: a violation, deleted at once"); continue
            case .stages: break
            }
            guard let anchor = verdict.anchor else {
                print("  anchor \(rule.anchor?.description ?? "?") is null\(verdict.unreadable.isEmpty ? "" : " or unreadable (\(verdict.unreadable.joined(separator: ", ")))"): the period has not started")
                continue
            }
            print("  anchor \(rule.anchor!.description) = \(rule.calendar.format(anchor))")
            for due in verdict.stages {
                let state = due.due <= now ? "due since" : "due at"
                print("  after \(due.stage.after): \(due.stage.action.rawValue), \(state) \(rule.calendar.format(due.due))")
            }
        }
        print("")
        for hold in explanation.holds { print("HOLD #\(hold.id) on \(hold.scope) by \(hold.createdBy): \(hold.reason) — nothing happens to this record while it stands") }
        if let (rule, at) = explanation.deletion {
            print("deletion: \(at <= now ? "due since" : "at") \(TimeText.iso(at)), when rule \(rule) — the longest retention that applies — lets go")
        } else if let reason = explanation.keptBecause {
            print("kept: \(reason)")
        }
    }

    struct View: Encodable {
        struct Rule: Encodable { var rule: String; var applies: Bool; var anchor: String?; var stages: [[String: String]]; var releases_at: String? }
        var store: String, dataset: String, key: String, at: String, record: [String: String], rules: [Rule]
        var holds: [String], deletion_rule: String?, deletion_at: String?, kept_because: String?

        init(_ e: Explanation) {
            (store, dataset, key, at) = (e.store, e.dataset, e.key.description, TimeText.iso(e.at))
            record = e.record.mapValues(\.description)
            rules = e.verdicts.map { v in
                Rule(rule: v.rule.id, applies: v.applies, anchor: v.anchor.map(TimeText.iso),
                     stages: v.stages.map { ["after": $0.stage.after.description, "action": $0.stage.action.rawValue, "due": TimeText.iso($0.due)] },
                     releases_at: v.releasesAt.map(TimeText.iso))
            }
            holds = e.holds.map { "#\($0.id) \($0.scope): \($0.reason)" }
            (deletion_rule, deletion_at, kept_because) = (e.deletion?.rule, e.deletion.map { TimeText.iso($0.at) }, e.keptBecause)
        }
    }
}
