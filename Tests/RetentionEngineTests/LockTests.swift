import Foundation
import GRDB
import RetentionEngine
import RetentionRules
import Testing

/// Issue 12 item 7: every route around `lock: true` that a rules or stores file offers — unbinding
/// the rule, renaming its dataset, re-mapping its fields, a `when:` that matches nothing, an earlier
/// stage, another zone or alignment — is refused before anything is deleted, on a real SQLite store.
@Suite("Locked rules cannot be bypassed")
struct LockTests {
    static let rules = """
        version: 1
        defaults: {timezone: Europe/Brussels}
        rules:
          short:
            retain: 30d
            from: created_at
            then: delete
            basis: test
          contracts:
            kind: obligation
            from: ended_at
            align: end-of-year
            when: "status = 'signed'"
            lock: true
            basis: bookkeeping act
            stages:
              - {after: 5y, then: restrict}
              - {after: 10y, then: delete}
        """

    static func stores(binding: String = "short, contracts", dataset: String = "records",
                       fields: String = "created_at: created_at, ended_at: ended_at, status: status") -> String {
        """
        version: 1
        stores:
          crm:
            kind: sqlite
            path: store.sqlite
            datasets:
              \(dataset):
                table: records
                key: id
                rules: [\(binding)]
                fields: {\(fields)}
                restrict: restricted_at
                anonymize: {other: "null"}
                max-delete-share: 100%
        """
    }

    static let now = utc("2026-03-31 12:00:00")

    /// Ten signed contracts that ended a year ago, created two years ago: `short` alone would delete
    /// them all; the locked obligation keeps them.
    static func seeded() async throws -> (Fixture, DatabaseQueue) {
        let fixture = Fixture(rules: rules, stores: stores())
        let queue = try fixture.database { db in
            try db.execute(sql: """
                CREATE TABLE records (id INTEGER PRIMARY KEY, created_at TEXT, ended_at TEXT, status TEXT, other TEXT, restricted_at TEXT);
                """)
            for id in 1...10 {
                try db.execute(sql: "INSERT INTO records (id, created_at, ended_at, status, other) VALUES (?, '2024-03-01 00:00:00', '2025-03-01 00:00:00', 'signed', '2000-01-01 00:00:00')",
                               arguments: [id])
            }
        }
        let report = try await fixture.engine().runPass(at: now)
        #expect(report.finished.allSatisfy { $0.doneCount == 0 }, "\(report.finished)")
        #expect(try keys(queue).count == 10)
        return (fixture, queue)
    }

    /// The change is refused with a message containing `expected`, and a pass under it deletes nothing.
    static func refused(_ fixture: Fixture, _ queue: DatabaseQueue, _ expected: String) async throws {
        let engine = try fixture.engine()
        await #expect {
            try await engine.checkLocks()
        } throws: { error in
            "\(error)".contains(expected) ? true : { Issue.record("\(error)"); return false }()
        }
        await #expect(throws: EngineError.self) { _ = try await engine.runPass(at: now.addingTimeInterval(60)) }
        #expect(try keys(queue).count == 10)
    }

    @Test("unbinding the locked rule from its dataset, or renaming the dataset without it, is refused")
    func unbinding() async throws {
        let (fixture, queue) = try await Self.seeded()
        var unbound = fixture
        unbound.storesText = Self.stores(binding: "short")
        try await Self.refused(unbound, queue, "was bound to locked rule 'contracts' and no longer is")
        var renamed = fixture
        renamed.storesText = Self.stores(binding: "short", dataset: "records_v2")
        try await Self.refused(renamed, queue, "(which reads what 'crm/records' read)")
        // Renamed but still bound: accepted, and the new name is remembered as well.
        var renamedBound = fixture
        renamedBound.storesText = Self.stores(dataset: "records_v2")
        try await renamedBound.engine().checkLocks()
        _ = try await renamedBound.engine().runPass(at: Self.now.addingTimeInterval(120))
        let bindings = try await renamedBound.engine().state.lockedRules().first?.form?.bindings.map(\.dataset)
        #expect(bindings == ["records", "records_v2"])
    }

    @Test("mapping the locked rule's anchor or condition field to another column is refused")
    func remapping() async throws {
        let (fixture, queue) = try await Self.seeded()
        var anchor = fixture
        anchor.storesText = Self.stores(fields: "created_at: created_at, ended_at: other, status: status")
        try await Self.refused(anchor, queue, "field 'ended_at' from 'ended_at' and now from 'other'")
        var condition = fixture
        condition.storesText = Self.stores(fields: "created_at: created_at, ended_at: ended_at, status: other")
        try await Self.refused(condition, queue, "field 'status' from 'status' and now from 'other'")
    }

    @Test("a when: may only widen: narrowing it (to match nothing) is refused, an added alternative or its removal accepted")
    func conditions() async throws {
        let (fixture, queue) = try await Self.seeded()
        var nothing = fixture
        nothing.rulesText = Self.rules.replacingOccurrences(of: "when: \"status = 'signed'\"", with: "when: \"status = 'signed' and status = 'void'\"")
        try await Self.refused(nothing, queue, "a locked rule's 'when:' may only widen")
        var other = fixture
        other.rulesText = Self.rules.replacingOccurrences(of: "when: \"status = 'signed'\"", with: "when: \"status = 'nothing'\"")
        try await Self.refused(other, queue, "a locked rule's 'when:' may only widen")
        var wider = fixture
        wider.rulesText = Self.rules.replacingOccurrences(of: "when: \"status = 'signed'\"", with: "when: \"status = 'draft' or status = 'signed'\"")
        try await wider.engine().checkLocks()
        var none = fixture
        none.rulesText = Self.rules.replacingOccurrences(of: "    when: \"status = 'signed'\"\n", with: "")
        #expect(none.rulesText != Self.rules)
        try await none.engine().checkLocks()
    }

    @Test("every stage is remembered: an earlier first stage, an added stage, another zone or an earlier alignment is refused; later is accepted")
    func stagesZoneAlignment() async throws {
        let (fixture, queue) = try await Self.seeded()
        var earlier = fixture
        earlier.rulesText = Self.rules.replacingOccurrences(of: "{after: 5y, then: restrict}", with: "{after: 1d, then: restrict}")
        try await Self.refused(earlier, queue, "kept data 5y before its stage 'restrict' and now 1d")
        var added = fixture
        added.rulesText = Self.rules.replacingOccurrences(of: "      - {after: 5y, then: restrict}", with: "      - {after: 5y, then: restrict}\n      - {after: 6y, then: anonymize}")
        try await Self.refused(added, queue, "gained a stage 'anonymize after 6y'")
        var zone = fixture
        zone.rulesText = Self.rules.replacingOccurrences(of: "from: ended_at\n", with: "from: ended_at\n    timezone: Pacific/Kiritimati\n")
        try await Self.refused(zone, queue, "counted in Europe/Brussels and now in Pacific/Kiritimati")
        var aligned = fixture
        aligned.rulesText = Self.rules.replacingOccurrences(of: "align: end-of-year", with: "align: end-of-month")
        try await Self.refused(aligned, queue, "was aligned to end-of-year and now to end-of-month")
        var later = fixture
        later.rulesText = Self.rules.replacingOccurrences(of: "{after: 5y, then: restrict}", with: "{after: 6y, then: restrict}")
            .replacingOccurrences(of: "    when: \"status = 'signed'\"\n", with: "")
        try await later.engine().checkLocks()
        var dropped = fixture
        dropped.rulesText = Self.rules.replacingOccurrences(of: "      - {after: 5y, then: restrict}\n", with: "")
        try await dropped.engine().checkLocks()
    }

    @Test("a dataset removed from the stores file altogether is no longer touched by retentiond: accepted; brought back unbound: refused")
    func removedDataset() async throws {
        let (fixture, queue) = try await Self.seeded()
        var removed = fixture
        removed.storesText = "version: 1\nstores: {}\n"
        try await removed.engine().checkLocks()
        _ = try await removed.engine().runPass(at: Self.now.addingTimeInterval(60))
        var back = fixture
        back.storesText = Self.stores(binding: "short")
        try await Self.refused(back, queue, "was bound to locked rule 'contracts' and no longer is")
    }
}
