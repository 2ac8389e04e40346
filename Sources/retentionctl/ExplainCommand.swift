import ArgumentParser
import CommandLineOptions
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

    @Option(help: "Explain as of this instant (default now).", transform: Date.init(instantOption:))
    var at: Date?

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func run() async throws {
        let now = at ?? Date()
        let engine = try await setup.engine()
        // In the key column's type: `007` on a text key is that record, never record 7.
        let lookup = try await engine.lookUp(store: store, dataset: dataset, typed: key)
        guard let explanation = try await engine.explain(store: store, dataset: dataset, key: lookup.key, at: now) else {
            throw CommandFailure("no record with key \(key) in \(store)/\(dataset)")
        }
        if format == .json { try JSONOutput.print(ExplanationView(explanation)); return }
        print("\(store)/\(dataset) key \(key), as of \(InstantText.format(now))")
        for (column, value) in explanation.record.sorted(by: { $0.key < $1.key }) { print("  \(column) = \(value)") }
        for verdict in explanation.verdicts { printRule(verdict, now: now) }
        print("")
        for hold in explanation.holds { print("HOLD #\(hold.id) on \(hold.scope) by \(hold.createdBy): \(hold.reason) — nothing happens to this record while it stands") }
        printDecision(explanation, now: now)
    }

    /// The outcome: held, deleted, deferred or kept, and when the record goes if nothing changes.
    func printDecision(_ explanation: Explanation, now: Date) {
        let decision = explanation.decision
        // Instants in the zone of the rule they belong to, as the rules' own lines print them.
        func local(_ date: Date, _ rule: String) -> String {
            explanation.verdicts.first { $0.rule.id == rule }.map { $0.rule.calendar.format(date) } ?? InstantText.format(date)
        }
        if explanation.holds.isEmpty, let rule = decision.anonymizedBy { print("anonymized now under rule \(rule)") }
        if explanation.holds.isEmpty, let rule = decision.restrictedBy { print("restricted now under rule \(rule)") }
        switch explanation.holds.isEmpty ? decision.outcome : .held(holdID: explanation.holds[0].id) {
        case .held:
            print("decision: held — whatever the rules say")
        case .deleted(let rule, let late):
            print("decision: deleted now under rule \(rule)" + (late ? " — LATE: past the rule's deadline (a violation)" : ""))
        case .deferred(let erasure, let by, let until):
            print("decision: erasure under rule \(erasure) is due, but DEFERRED by \(by.map { "rule \($0)" }.joined(separator: " and ")) "
                  + (until.map { "until \(local($0, by.last ?? erasure))" } ?? "until its period starts and ends (an anchor is null)")
                  + ": an obligation to keep beats an erasure (GDPR Art. 17(3)); the record is restricted meanwhile (Art. 18) "
                  + "and deleted when the obligation ends — not a missed deadline")
        case .kept(let by, let until):
            if let by {
                print("decision: kept by rule \(by)" + (until.map { " until \(local($0, by))" } ?? " (no end: forever, or its anchor is null)"))
            } else {
                print("decision: kept: no applicable rule deletes it")
            }
        }
        if let (rule, at) = explanation.deletion, at > now {
            print("deletion: at \(local(at, rule)) under rule \(rule), if the record does not change")
        }
    }

    /// One rule: its kind, whether it applies, its anchor and stages, and its claim on the record.
    func printRule(_ verdict: RecordDecision.RuleState, now: Date) {
        let rule = verdict.rule
        print("\nrule \(rule.id) (\(rule.kind.rawValue)\(rule.kindIsExplicit ? "" : ", assumed")\(rule.enforcedBy.isEnforceableHere ? "" : ", enforced by \(rule.enforcedBy.rawValue)"))"
              + (rule.title.map { " — \($0)" } ?? ""))
        if let condition = rule.condition { print("  when \(condition): \(verdict.applies ? "holds" : "does not hold, so the rule does not apply")") }
        guard verdict.applies else { return }
        switch rule.retention {
        case .forever: print("  keeps the record forever"); return
        case .never: print("  retain: none — the record must not exist: a violation, deleted at once"); return
        case .stages: break
        }
        guard let anchor = verdict.anchor, let anchorField = rule.anchor else {
            print("  anchor \(rule.anchor?.description ?? "?") is null\(verdict.unreadable.isEmpty ? "" : " or unreadable (\(verdict.unreadable.joined(separator: ", ")))"): "
                  + (rule.kind == .erasure ? "the event has not happened" : "the period has not started, so the rule keeps the record"))
            return
        }
        print("  anchor \(anchorField.description) = \(rule.calendar.format(anchor))")
        for due in verdict.stages {
            let state = due.due <= now ? "due since" : "due at"
            print("  after \(due.stage.after): \(due.stage.action.rawValue), \(state) \(rule.calendar.format(due.due))")
        }
        if let deadline = rule.deadline(anchor: anchor), let period = rule.deadline { print("  deadline \(period): \(rule.calendar.format(deadline))") }
        if verdict.keeps {
            let end = verdict.keepsUntil.map { ($0 <= now ? "kept it until " : "keeps it until ") + rule.calendar.format($0) } ?? "keeps it"
            print("  \(rule.kind == .obligation ? "obligation" : "purpose"): \(end)")
        }
    }
}
