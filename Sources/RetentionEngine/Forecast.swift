package import Foundation
package import RetentionRules

/// The forecast: what is due when, read from the stores and written nowhere (`retentionctl plan`,
/// the daemon's sleep until the next thing is due).
extension Engine {
    /// What is due at `now` per rule, stage and dataset — and, with a horizon, what falls due by
    /// `now + horizon`. Writes nothing; `now` may be any instant, past or future.
    package func plan(at now: Date, horizon: Period? = nil) async throws -> Plan {
        let holds = try await stateStore.holds()
        let entries = try await Connections.using(connector) { connections in
            var entries: [PlanEntry] = []
            for policy in policies {
                let store = policy.store, dataset = policy.dataset
                let held = holds.first { $0.scope.covers(store: store.id, dataset: dataset.id) }
                let connection = try await connections.connection(to: store)
                let excluded = policy.excluding(holds)
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
            return entries
        }
        return Plan(at: now, horizon: horizon, entries: entries)
    }

    /// When there will next be something to do after `now`: the first record of any stage falling
    /// due, or a planned job's grace window ending; nil if nothing ever will (until records are
    /// added). Held datasets are skipped: nothing acts on them until the hold is released. Cheap:
    /// one `min()` per anchor column and stage, on the anchor's index.
    package func nextWake(after now: Date) async throws -> Date? {
        let planned = try await stateStore.jobs(in: [.planned]).map(\.notBefore).filter { $0 > now }.min()
        let holds = try await stateStore.holds()
        return try await Connections.using(connector) { connections in
            var earliest = planned
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
            return earliest
        }
    }

    /// When the first record of the stage that is not yet due falls due: the earliest anchor at or
    /// after the cutoff, among records the rule applies to; for several stages of one dataset,
    /// asked of the store at once.
    func nextDue(of stages: [PlannedStage], policy: DatasetPolicy, connection: any StoreConnection) async throws -> [Date?] {
        var queries: [EarliestQuery] = []
        var owners: [Int] = []
        for (index, stage) in stages.enumerated() where !stage.isViolation && stage.deferral == nil
            && stage.period != nil {
            for column in policy.columns(stage.rule.anchor) {
                queries.append(EarliestQuery(column: column, predicate: policy.applies(stage.rule) && .notBefore(column: column, cutoff: stage.cutoff)
                                             && .representable(column)))
                owners.append(index)
            }
        }
        var earliest = [Date?](repeating: nil, count: stages.count)
        // A store that cannot read its records (a command) forecasts nothing.
        let anchors = try await (connection as? any RecordReader)?.earliest(policy.dataset, of: queries) ?? queries.map { _ in nil }
        for (owner, anchor) in zip(owners, anchors) {
            if let anchor { earliest[owner] = min(earliest[owner] ?? anchor, anchor) }
        }
        return zip(stages, earliest).map { stage, anchor in
            guard let anchor, let period = stage.period else { return nil }
            return stage.rule.calendar.due(after: period.after, from: anchor, alignment: stage.rule.alignment)
        }
    }
}


extension Engine {
    /// The earliest deadline among the records a stage makes due, for rules with a deadline; nil
    /// without one, or when the store cannot read its records' anchors (a command).
    func earliestDeadline(of stage: PlannedStage, policy: DatasetPolicy, connection: any StoreConnection,
                          predicate: RecordPredicate) async throws -> Date? {
        guard stage.rule.deadline != nil, let reader = connection as? any RecordReader else { return nil }
        var earliest: Date?
        for column in policy.columns(stage.rule.anchor) {
            if let anchor = try await reader.earliest(policy.dataset, column: column, where: predicate && .representable(column)) {
                earliest = min(earliest ?? anchor, anchor)
            }
        }
        return earliest.flatMap { stage.rule.deadline(anchor: $0) }
    }
}
