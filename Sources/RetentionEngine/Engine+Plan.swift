public import Foundation
public import RetentionRules

/// What one stage of one rule makes due on one dataset.
public struct PlanEntry: Sendable, Hashable, Encodable {
    public var store: String
    public var dataset: String
    public var rule: String
    /// 1-based, as rule authors count.
    public var stage: Int
    public var action: Action
    public var cutoff: Date
    /// Records due at the plan's instant (record holds excluded).
    public var due: Int
    /// Records due by the end of the horizon, if one was asked for.
    public var dueByHorizon: Int?
    /// When the next record not yet due falls due, if any.
    public var nextDue: Date?
    /// A hold on the dataset or store blocks the stage.
    public var heldBy: Int64?
    /// `retain: none`: every record found is a violation.
    public var isViolation: Bool
    /// The rule's kind.
    public var kind: Kind = .purpose
    /// An erasure's delete stage with a deadline: records it deletes now that are past the deadline
    /// (deferred erasures count from the end of their deferral).
    public var overdue: Int?
    /// The restriction of an erasure an obligation defers: every deferred record (`due` counts
    /// those not restricted yet), by which obligations, released when.
    public var deferred: DeferredErasure?
    /// Whether the entry is the restriction of an erasure an obligation defers.
    public var isDeferral = false

    enum CodingKeys: String, CodingKey {
        case store, dataset, rule, stage, action, cutoff, due, kind, overdue
        case dueByHorizon = "due_by_horizon", nextDue = "next_due", heldBy = "held_by", isViolation = "violation"
        case deferred = "deferred_by", isDeferral = "deferral"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(store, forKey: .store)
        try container.encode(dataset, forKey: .dataset)
        try container.encode(rule, forKey: .rule)
        try container.encode(stage, forKey: .stage)
        try container.encode(action, forKey: .action)
        try container.encode(TimeText.iso(cutoff), forKey: .cutoff)
        try container.encode(due, forKey: .due)
        try container.encode(dueByHorizon, forKey: .dueByHorizon)
        try container.encode(nextDue.map(TimeText.iso), forKey: .nextDue)
        try container.encode(heldBy, forKey: .heldBy)
        try container.encode(isViolation, forKey: .isViolation)
        try container.encode(kind, forKey: .kind)
        try container.encodeIfPresent(overdue, forKey: .overdue)
        try container.encode(isDeferral, forKey: .isDeferral)
        try container.encodeIfPresent(deferred, forKey: .deferred)
    }
}

/// The plan at an instant: every stage of every bound rule, with counts.
public struct Plan: Sendable {
    public var at: Date
    public var horizon: Duration?
    public var entries: [PlanEntry]
}

extension Engine {
    /// What is due at `now` per rule, stage and dataset — and, with a horizon, what falls due by
    /// `now + horizon`. Writes nothing; `now` may be any instant, past or future.
    public func plan(at now: Date, horizon: Duration? = nil) async throws -> Plan {
        var connections = Connections(connector: connector)
        var entries: [PlanEntry] = []
        let holds = try state.holds()
        do {
            for policy in policies {
                let store = policy.store, dataset = policy.dataset
                let held = holds.first { $0.scope.covers(store: store.id, dataset: dataset.id) }
                let connection = try await connections.connection(to: store)
                let excluded = Self.excluding(holds, in: policy)
                let later = horizon.map { policy.stages(at: policy.rules.first?.calendar.due(after: $0, from: now) ?? now) } ?? []
                let stages = policy.stages(at: now)
                // All of a dataset's questions at once: a store answers them in one read.
                let futures = stages.map { stage in later.first { stage.isSame(rule: $0.rule.id, stage: $0.stageIndex, action: $0.action) } }
                let counts = try await connection.counts(dataset, where: stages.map { $0.predicate && excluded }
                                                         + futures.compactMap { $0.map { $0.predicate && excluded } })
                let nextDues = try await nextDue(of: stages, policy: policy, connection: connection)
                var futureCounts = counts[stages.count...].makeIterator()
                for (index, stage) in stages.enumerated() {
                    var entry = PlanEntry(store: store.id, dataset: dataset.id, rule: stage.rule.id, stage: stage.stageIndex + 1,
                                          action: stage.action, cutoff: stage.cutoff, due: counts[index], heldBy: held?.id, isViolation: stage.isViolation)
                    if futures[index] != nil { entry.dueByHorizon = futureCounts.next() }
                    entry.nextDue = nextDues[index]
                    entry.kind = stage.rule.kind
                    if let overdue = stage.overdue { entry.overdue = try await connection.count(dataset, where: overdue && excluded) }
                    if let deferral = stage.deferral {
                        entry.isDeferral = true
                        entry.deferred = try await deferredErasure(of: stage, deferral, policy: policy, connection: connection, excluded: excluded)
                        entry.nextDue = entry.deferred?.firstRelease
                    }
                    entries.append(entry)
                }
            }
        } catch {
            await connections.closeAll()
            throw error
        }
        await connections.closeAll()
        return Plan(at: now, horizon: horizon, entries: entries)
    }

    /// When there will next be something to do after `now`: the first record of any stage falling
    /// due, or a planned job's grace window ending; nil if nothing ever will (until records are
    /// added). Held datasets are skipped: nothing acts on them until the hold is released. Cheap:
    /// one `min()` per anchor column and stage, on the anchor's index.
    public func nextWake(after now: Date) async throws -> Date? {
        var earliest = try state.jobs(in: [.planned]).map(\.notBefore).filter { $0 > now }.min()
        let holds = try state.holds()
        var connections = Connections(connector: connector)
        do {
            for policy in policies where !holds.contains(where: { $0.scope.covers(store: policy.store.id, dataset: policy.dataset.id) }) {
                let connection = try await connections.connection(to: policy.store)
                let stages = policy.stages(at: now)
                for case let due? in try await nextDue(of: stages, policy: policy, connection: connection) where due > now {
                    earliest = min(earliest ?? due, due)
                }
                // A deferred erasure is carried out the moment its obligation ends.
                for stage in stages {
                    for (obligation, blocks) in stage.deferral?.obligations ?? [] {
                        if let release = try await firstRelease(of: obligation, among: blocks, policy: policy, connection: connection), release > now {
                            earliest = min(earliest ?? release, release)
                        }
                    }
                }
            }
        } catch {
            await connections.closeAll()
            throw error
        }
        await connections.closeAll()
        return earliest
    }

    /// When the first record of the stage that is not yet due falls due: the earliest anchor at or
    /// after the cutoff, among records the rule applies to; for several stages of one dataset,
    /// asked of the store at once.
    func nextDue(of stages: [PlannedStage], policy: DatasetPolicy, connection: any StoreConnection) async throws -> [Date?] {
        var queries: [EarliestQuery] = []
        var owners: [Int] = []
        for (index, stage) in stages.enumerated() where !stage.isViolation && stage.deferral == nil
            && stage.rule.retention.stages[safe: stage.stageIndex] != nil {
            for column in policy.columns(stage.rule.anchor) {
                queries.append(EarliestQuery(column: column, predicate: policy.applies(stage.rule) && .notBefore(column: column, cutoff: stage.cutoff)
                                             && .representable(column)))
                owners.append(index)
            }
        }
        var earliest = [Date?](repeating: nil, count: stages.count)
        for (owner, anchor) in zip(owners, try await connection.earliest(policy.dataset, of: queries)) {
            if let anchor { earliest[owner] = min(earliest[owner] ?? anchor, anchor) }
        }
        return zip(stages, earliest).map { stage, anchor in
            guard let anchor, let period = stage.rule.retention.stages[safe: stage.stageIndex] else { return nil }
            return stage.rule.calendar.due(after: period.after, from: anchor, alignment: stage.rule.alignment)
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
