package import Foundation
import Logging
import RetentionRules

/// Erasures an obligation holds back on one dataset, as a pass or a plan found them; its JSON (in
/// `plan` and `run --format json`) has snake_case keys and ISO instants.
package struct DeferredErasure: Sendable, Hashable, Encodable {
    package var store: String
    package var dataset: String
    /// The erasure rule.
    package var rule: String
    /// Records due under the erasure and kept by an obligation (holds excluded).
    package var count: Int
    /// Each obligation that blocks some of them, with the first instant one of those is released
    /// (nil while its anchor is null for all of them: its period has not started).
    package var obligations: [Blocker]

    package struct Blocker: Sendable, Hashable, Encodable {
        package var rule: String
        package var count: Int
        package var firstRelease: Date?

        enum CodingKeys: String, CodingKey { case rule, count, firstRelease = "first_release" }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(rule, forKey: .rule)
            try container.encode(count, forKey: .count)
            try container.encode(firstRelease.map(InstantText.format), forKey: .firstRelease)
        }
    }

    /// `rule O until T`, or for several records `rule O (the first until T)`; each obligation.
    package var byText: String {
        obligations.map { blocker in
            let until = blocker.firstRelease.map { InstantText.format($0) }
            return "rule \(blocker.rule)" + (until.map { blocker.count == 1 ? " until \($0)" : " (the first of them until \($0))" }
                                             ?? " (its period has not started)")
        }.joined(separator: " and ")
    }

    /// The earliest instant one of the records can be released; nil when none has a date.
    package var firstRelease: Date? { obligations.compactMap(\.firstRelease).min() }
}

extension Engine {
    /// Counts the erasures an obligation defers on a dataset, logs them (`erasure-deferred`) and
    /// adds them to the report; returns the note for the restriction job, if any is deferred. The
    /// journal hears of it as a notice when this pass restricts records (`restricting`), and at
    /// debug level on later passes, which find the same records deferred; a dry run's (`quietly`) not at all.
    func reportDeferral(of stage: PlannedStage, _ deferral: PlannedStage.Deferral, restricting: Int, policy: DatasetPolicy,
                        connection: any StoreConnection, excluded: RecordPredicate, report: inout PassReport,
                        quietly: Bool = false) async throws -> String? {
        guard let found = try await deferredErasure(of: stage, deferral, policy: policy, connection: connection, excluded: excluded) else { return nil }
        report.deferred.append(found)
        let note = "erasure under rule \(found.rule) deferred by \(found.byText)"
        if quietly { return note }
        let restricted = policy.dataset.restrictColumn == nil
            ? "they cannot be restricted: the dataset has no 'restrict:' column"
            : restricting > 0 ? "\(restricting) of them restricted now" : "all restricted already"
        let level: Logger.Level = restricting > 0 ? .notice : policy.dataset.restrictColumn == nil ? .info : .debug
        logger.log(level: level, "\(found.count) records of \(found.store)/\(found.dataset): erasure under rule \(found.rule) deferred by \(found.byText); \(restricted)",
                   metadata: ["event": "\(EngineEvent.erasureDeferred.rawValue)", "rule": "\(found.rule)", "store": "\(found.store)",
                              "dataset": "\(found.dataset)", "count": "\(found.count)",
                              "obligations": "\(found.obligations.map(\.rule).joined(separator: ","))",
                              "until": "\(found.firstRelease.map(InstantText.format) ?? "")"])
        return note
    }

    /// What an erasure stage's deferral holds back now, or nil when nothing is deferred.
    func deferredErasure(of stage: PlannedStage, _ deferral: PlannedStage.Deferral, policy: DatasetPolicy,
                         connection: any StoreConnection, excluded: RecordPredicate) async throws -> DeferredErasure? {
        let dataset = policy.dataset
        let counts = try await connection.counts(dataset, where: [deferral.deferred && excluded]
                                                 + deferral.obligations.map { $0.blocks && excluded })
        guard counts[0] > 0 else { return nil }
        var blockers: [DeferredErasure.Blocker] = []
        for ((obligation, blocks), count) in zip(deferral.obligations, counts.dropFirst()) where count > 0 {
            blockers.append(.init(rule: obligation.id, count: count,
                                  firstRelease: try await firstRelease(of: obligation, among: blocks && excluded, policy: policy, connection: connection)))
        }
        return DeferredErasure(store: policy.store.id, dataset: dataset.id, rule: stage.rule.id, count: counts[0], obligations: blockers)
    }

    /// The first instant the obligation lets go of one of the records: its keeping stage counted
    /// from their earliest anchor.
    func firstRelease(of obligation: Rule, among predicate: RecordPredicate, policy: DatasetPolicy,
                      connection: any StoreConnection) async throws -> Date? {
        guard let stage = DatasetPolicy.keepingStage(of: obligation), let reader = connection as? any RecordReader else { return nil }
        let columns = policy.columns(obligation.anchor)
        let anchors = try await reader.earliest(policy.dataset, of: columns.map { EarliestQuery(column: $0, predicate: predicate && .representable($0)) })
        return anchors.compactMap { $0 }.min().map { obligation.calendar.due(after: stage.after, from: $0, alignment: obligation.alignment) }
    }
}
