import Foundation
import GRDB
import RetentionEngine
import RetentionRules
import RetentionStores
import Testing

/// The planner's queries agree with a record-by-record evaluation of the rules: random records
/// around month ends, leap days and DST changes, random rules of every kind (purposes, obligations,
/// erasures; periods, alignments, conditions, anchors of several fields, several rules per dataset,
/// anonymize-then-delete, forever, retain none), null anchors and holds. The oracle computes each
/// record's due instants with `Rule.dueDates` and decides by DESIGN §6 — erasure beats purpose,
/// obligation beats erasure (which is deferred and the record restricted), the longest purpose
/// wins; the engine plans with exact cutoffs and SQL, and really deletes and restricts. The model
/// `RecordDecision` (what `explain` and `retentionctl test` use) is held to the same oracle.
@Suite("Planner agrees with brute force")
struct PlannerPropertyTests {
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
        mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }
        mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }
    }

    struct Record {
        var id: Int64
        var created: Date
        var closed: Date?
        var status: String?
    }

    /// A random instant near a month end (or a leap day), to the second or microsecond.
    static func instant(_ g: inout Generator, around base: Date) -> Date {
        let days = Int(base.timeIntervalSince1970 / 86_400) - g.int(0...900)
        var (year, month, day) = LocalDateTime.civil(fromDays: days)
        if g.chance(60) { day = min(LocalDateTime.daysIn(month: month, year: year), g.pick([28, 29, 30, 31])) }
        if g.chance(10) { (year, month, day) = (g.pick([2024, 2020]), 2, 29) }
        var seconds = Double(LocalDateTime.days(year: year, month: month, day: day)) * 86_400 + Double(g.int(0...86_399))
        if g.chance(20) { seconds += Double(g.int(0...999_999)) / 1e6 }
        return Date(timeIntervalSince1970: seconds)
    }

    static func condition(_ g: inout Generator) -> String? {
        g.pick([nil, nil, "status = 'a'", "closed_at is null", "closed_at is not null", "not status = 'b'", "status != 'a' or closed_at is null"])
    }

    static func rulesYAML(_ g: inout Generator, zone: String) -> String {
        var text = "version: 1\ndefaults: {timezone: \(zone)}\nrules:\n"
        for index in 0..<g.int(1...4) {
            text += "  r\(index):\n    basis: test\n"
            let anchor = g.pick(["created_at", "closed_at", "[closed_at, created_at]"])
            let kind = g.int(0...9)
            if let when = condition(&g) { text += "    when: \"\(when)\"\n" }
            if kind == 0 {
                text += "    kind: purpose\n    retain: forever\n"
                continue
            }
            if kind == 9 {
                text += "    kind: erasure\n    retain: none\n"
                continue
            }
            text += "    kind: \(g.pick(["purpose", "obligation", "erasure"]))\n"
            if let align = g.pick([nil, nil, "end-of-day", "end-of-month", "end-of-year"]) { text += "    align: \(align)\n" }
            switch kind {
            case 1, 2:
                let first = g.pick(["1d", "7d", "30d", "36h"]), second = g.pick(["1y", "14mo", "2y"])
                text += "    from: \(anchor)\n    stages:\n      - {after: \(first), then: anonymize}\n      - {after: \(second), then: delete}\n"
            default:
                text += "    from: \(anchor)\n    retain: \(g.pick(["0d", "1d", "24h", "30d", "1mo", "2mo", "1y", "14mo", "3w"]))\n    then: delete\n"
            }
        }
        return text
    }

    /// SQL's three-valued reading of the generated conditions, written out independently.
    static func holds(_ condition: Condition?, _ record: Record) -> Bool {
        guard let condition else { return true }
        func eval(_ c: Condition) -> Bool? {
            switch c {
            case .isNull(let field, let negated):
                let isNull = field.name == "closed_at" ? record.closed == nil : record.status == nil
                return isNull != negated
            case .comparison(_, let op, .string(let literal)):
                guard let status = record.status else { return nil }
                return op == .equal ? status == literal : status != literal
            case .comparison: return nil
            case .and(let a, let b):
                let (x, y) = (eval(a), eval(b))
                return x == false || y == false ? false : (x == nil || y == nil ? nil : true)
            case .or(let a, let b):
                let (x, y) = (eval(a), eval(b))
                return x == true || y == true ? true : (x == nil || y == nil ? nil : false)
            case .not(let inner, _): return eval(inner).map { !$0 }
            }
        }
        return eval(condition) == true
    }

    static func anchor(_ rule: Rule, _ record: Record) -> Date? {
        (rule.anchor?.fields ?? []).compactMap { $0 == "created_at" ? record.created : record.closed }.min()
    }

    @Test("random rules of every kind and records: what the engine deletes, defers, restricts and anonymizes is exactly what is due", arguments: 0..<60)
    func agreement(seed: Int) async throws {
        var g = Generator(state: UInt64(seed) &* 7919 &+ 17)
        let zone = g.pick(["Europe/Brussels", "UTC", "America/New_York", "Australia/Sydney"])
        let nowDay = LocalDateTime.days(year: g.pick([2024, 2025, 2026]), month: g.int(1...12), day: 1) - g.int(0...3)
        let now = Date(timeIntervalSince1970: Double(nowDay) * 86_400 + Double(g.int(0...86_399)))
        let rulesText = Self.rulesYAML(&g, zone: zone)
        let ruleIDs = rulesText.split(separator: "\n").filter { $0.hasPrefix("  r") }.map { String($0.dropFirst(2).dropLast()) }
        let fixture = Fixture(rules: rulesText, stores: """
            version: 1
            stores:
              db:
                kind: sqlite
                path: store.sqlite
                datasets:
                  records:
                    table: records
                    key: id
                    rules: [\(ruleIDs.joined(separator: ", "))]
                    fields: {created_at: created_at, closed_at: closed_at, status: status}
                    anonymize: {name: "null"}
                    restrict: restricted_at
            """)
        var records: [Record] = []
        for id in 1...150 {
            let created = Self.instant(&g, around: now)
            let closed: Date? = g.chance(40) ? nil : Self.instant(&g, around: now)
            records.append(Record(id: Int64(id), created: created, closed: closed, status: g.pick([nil, "a", "b"])))
        }
        let queue = try fixture.database { db in
            try db.execute(sql: "CREATE TABLE records (id INTEGER PRIMARY KEY, created_at TEXT, closed_at TEXT, status TEXT, name TEXT, restricted_at TEXT)")
            for r in records {
                try db.execute(sql: "INSERT INTO records VALUES (?, ?, ?, ?, 'someone', NULL)",
                               arguments: [r.id, SQLiteTimeText.text(r.created), r.closed.map(SQLiteTimeText.text), r.status])
            }
        }
        let engine = try fixture.engine { $0.maxDeleteShare = 1; $0.batchSize = g.int(1...40) }
        let held = Set((0..<5).map { _ in Int64(g.int(1...150)) })
        for key in held {
            _ = try engine.database.addHold(.record(store: "db", dataset: "records", key: .integer(key)), reason: "test", by: "t", at: now)
        }

        // The oracle.
        let rules = ruleIDs.compactMap { engine.rules[$0] }
        var expectDeleted = Set<Int64>(), expectAnonymized = Set<Int64>(), expectRestricted = Set<Int64>()
        let policy = try #require(engine.policies.first)
        for record in records where !held.contains(record.id) {
            let applicable = rules.filter { Self.holds($0.condition, record) }
            func dueStage(_ rule: Rule, _ action: Action) -> Bool {
                guard let anchor = Self.anchor(rule, record) else { return false }
                return rule.dueDates(anchor: anchor).contains { $0.stage.action == action && $0.due <= now }
            }
            func lastStageDue(_ rule: Rule) -> Bool {
                guard let anchor = Self.anchor(rule, record), let last = rule.dueDates(anchor: anchor).last else { return false }
                return last.due <= now
            }
            // Still keeps the record: a purpose until its delete stage (forever: always; a null
            // anchor: its period has not started), an obligation until its last stage.
            func keeps(_ rule: Rule) -> Bool {
                switch (rule.kind, rule.retention) {
                case (.erasure, _), (_, .never): false
                case (_, .forever): true
                case (.obligation, .stages): !lastStageDue(rule)
                case (.purpose, .stages(let stages)): stages.contains { $0.action == .delete } && !dueStage(rule, .delete)
                }
            }
            let erasureDue = applicable.contains { $0.retention == .never || ($0.kind == .erasure && dueStage($0, .delete)) }
            let obligationRuns = applicable.contains { $0.kind == .obligation && keeps($0) }
            let purposeDeletes = applicable.contains { rule in
                rule.kind != .erasure && rule.retention != .never && dueStage(rule, .delete)
                    && !applicable.contains { $0.id != rule.id && keeps($0) }
            }
            var outcome = "kept"
            if erasureDue && obligationRuns {
                expectRestricted.insert(record.id)
                outcome = "deferred"
            } else if erasureDue || purposeDeletes {
                expectDeleted.insert(record.id)
                outcome = "deleted"
            }
            if outcome != "deleted", applicable.contains(where: { dueStage($0, .anonymize) }) { expectAnonymized.insert(record.id) }
            // The model says the same, record by record.
            let values: [String: StoreValue] = ["created_at": .text(SQLiteTimeText.text(record.created)),
                                                "closed_at": record.closed.map { .text(SQLiteTimeText.text($0)) } ?? .null,
                                                "status": record.status.map(StoreValue.text) ?? .null, "name": .text("someone"), "restricted_at": .null]
            let decision = RecordDecision(policy: policy, record: values, key: .integer(record.id), at: now, codec: SQLiteCodec())
            let modelOutcome = switch decision.outcome {
            case .deleted: "deleted"
            case .deferred: "deferred"
            case .kept, .held: "kept"
            }
            #expect(modelOutcome == outcome, "record \(record.id): model \(decision.outcome), oracle \(outcome)\nseed \(seed)\n\(rulesText)")
            #expect((decision.restrictedBy != nil) == (outcome == "deferred"), "record \(record.id) seed \(seed)")
        }

        _ = try await engine.runPass(at: now)
        let remaining = try keys(queue)
        let anonymized = try await queue.read { db in Set(try Int64.fetchAll(db, sql: "SELECT id FROM records WHERE name IS NULL")) }
        let context = "seed \(seed), zone \(zone), now \(InstantText.format(now))\n\(rulesText)"
        #expect(Set(records.map(\.id)).subtracting(remaining) == expectDeleted, "\(context)")
        #expect(anonymized == expectAnonymized, "\(context)")
        let restricted = try await queue.read { db in Set(try Int64.fetchAll(db, sql: "SELECT id FROM records WHERE restricted_at IS NOT NULL")) }
        #expect(restricted == expectRestricted, "\(context)")
        // Counts and audit agree with what happened.
        let jobs = try engine.database.jobs()
        #expect(jobs.filter { $0.action == .delete }.reduce(0) { $0 + $1.doneCount } == expectDeleted.count)
        #expect(try engine.database.verifyAudit().problems.isEmpty)
    }
}
