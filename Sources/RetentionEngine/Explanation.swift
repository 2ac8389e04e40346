public import Foundation
public import RetentionRules

/// Why one record is kept, or when and under which rule it goes.
public struct Explanation: Sendable {
    /// One rule bound to the record's dataset.
    public struct RuleVerdict: Sendable {
        public var rule: Rule
        /// Whether the rule's `when:` holds for the record (always true without one).
        public var applies: Bool
        /// The anchor's value, if present and readable.
        public var anchor: Date?
        /// Anchor columns present but not readable as timestamps.
        public var unreadable: [String]
        /// The due instant of each stage (empty when the anchor is null).
        public var stages: [StageDue]
        /// When the rule lets go of the record for deletion: its last stage; nil = never (yet).
        public var releasesAt: Date?
    }

    public var store: String
    public var dataset: String
    public var key: RecordKey
    public var at: Date
    /// The record's mapped columns.
    public var record: [String: StoreValue]
    public var verdicts: [RuleVerdict]
    /// Holds covering the record.
    public var holds: [Hold]
    /// The rule whose deletion wins (the longest retention), when every applicable rule has an end.
    public var deletion: (rule: String, at: Date)?
    /// Why the record is never deleted, if it is not.
    public var keptBecause: String?
}

extension Engine {
    /// Every rule that applies to one record, its due instant per stage, which one wins and why,
    /// and any hold — read from the store, evaluated here with the same semantics as the planner.
    public func explain(store storeID: String, dataset datasetID: String, key: RecordKey, at now: Date) async throws -> Explanation? {
        guard let store = stores[storeID] else { throw StoreError(store: storeID, message: "no such store in the stores files") }
        guard let dataset = store.datasets.first(where: { $0.id == datasetID }) else {
            throw StoreError(store: storeID, message: "no dataset '\(datasetID)' (it has \(store.datasets.map(\.id).joined(separator: ", ")))")
        }
        let policy = DatasetPolicy(store: store, dataset: dataset, rules: rules)
        let connection = try await connector.connect(to: store)
        let found = try await connection.record(dataset, key: key)
        await connection.close()
        guard let record = found else { return nil }
        var verdicts: [Explanation.RuleVerdict] = []
        for rule in policy.rules {
            let applies = policy.applies(rule).evaluate(record, key: key) == true
            var unreadable: [String] = []
            let anchors = policy.columns(rule.anchor).compactMap { column -> Date? in
                let value = record[column] ?? .null
                if value.isNull { return nil }
                guard let date = Self.instant(value) else { unreadable.append(column); return nil }
                return date
            }
            let anchor = anchors.min()
            let stages = anchor.map { rule.dueDates(anchor: $0) } ?? []
            let releases: Date? = switch rule.retention {
            case .forever: nil
            case .never: now
            case .stages: rule.retention.stages.contains { $0.action == .delete } ? stages.last { $0.stage.action == .delete }?.due : now
            }
            verdicts.append(.init(rule: rule, applies: applies, anchor: anchor, unreadable: unreadable, stages: stages, releasesAt: releases))
        }
        let holds = try state.holds().filter {
            switch $0.scope {
            case .record(let s, let d, let k): s == storeID && d == datasetID && k == key
            default: $0.scope.covers(store: storeID, dataset: datasetID)
            }
        }
        var explanation = Explanation(store: storeID, dataset: datasetID, key: key, at: now, record: record, verdicts: verdicts, holds: holds)
        let applicable = verdicts.filter(\.applies)
        if applicable.isEmpty {
            explanation.keptBecause = "no rule's condition holds for this record"
        } else if let forever = applicable.first(where: { $0.rule.retention == .forever }) {
            explanation.keptBecause = "rule \(forever.rule.id) keeps it forever (\(forever.rule.basis ?? "no basis given"))"
        } else if let open = applicable.first(where: { $0.releasesAt == nil }) {
            explanation.keptBecause = "rule \(open.rule.id) has not started its period: \(open.rule.anchor?.description ?? "its anchor") is null"
                + (open.unreadable.isEmpty ? "" : " or unreadable (\(open.unreadable.joined(separator: ", ")))")
        } else if !applicable.contains(where: { $0.rule.retention == .never || $0.rule.retention.stages.contains { $0.action == .delete } }) {
            explanation.keptBecause = "no applicable rule deletes it"
        } else if let winner = applicable.max(by: { $0.releasesAt! < $1.releasesAt! }) {
            // Deleted once every rule has let go, by the earliest rule that deletes from then on.
            explanation.deletion = (winner.rule.id, winner.releasesAt!)
        }
        return explanation
    }

    /// A stored anchor value as an instant: native dates, Unix seconds, SQLite text.
    public static func instant(_ value: StoreValue) -> Date? {
        switch value {
        case .null: nil
        case .date(let date): date
        case .integer(let seconds): Date(timeIntervalSince1970: Double(seconds))
        case .real(let seconds): Date(timeIntervalSince1970: seconds)
        case .text(let text): TimeText.parseSQLite(text)
        }
    }
}
