import Foundation
import GRDB
import RetentionEngine
import RetentionRules
import Testing

/// A dataset under many rules gets small predicates: the rules' tests on one anchor fold into one.
@Suite("Predicates of a dataset under many rules")
struct PolicyFoldingTests {
    @Test("60 delete rules on one anchor: every stage's predicate is one test, at the longest period's cutoff")
    func manyRulesFold() throws {
        let count = 60
        let rules = "version: 1\nrules:\n" + (1...count).map { index in
            "  r\(index):\n    retain: \(index * 10)d\n    from: created_at\n    then: delete\n    basis: test\n"
        }.joined()
        let stores = """
            version: 1
            stores:
              db:
                kind: sqlite
                path: store.sqlite
                datasets:
                  records:
                    table: records
                    key: id
                    rules: [\((1...count).map { "r\($0)" }.joined(separator: ", "))]
                    fields: { created_at: created_at }
            """
        let fixture = Fixture(rules: rules, stores: stores)
        _ = try fixture.database { db in try db.execute(sql: "CREATE TABLE records (id INTEGER PRIMARY KEY, created_at TEXT)") }
        let engine = try fixture.engine()
        let now = utc("2026-03-31 12:00:00")
        let stages = try #require(engine.policies.first).stages(at: now)
        #expect(stages.count == count)
        let longest = try #require(engine.rules["r\(count)"])
        let cutoff = longest.cutoff(for: longest.retention.stages[0], at: now)
        for stage in stages {
            #expect(stage.predicate == .before(columns: ["created_at"], cutoff: cutoff), "rule \(stage.rule.id)")
        }
    }

    @Test("&& folds two cutoffs on the same columns into the earlier, and keeps other tests apart")
    func folding() {
        let a = RecordPredicate.before(columns: ["t"], cutoff: utc("2026-01-01 00:00:00"))
        let b = RecordPredicate.before(columns: ["t"], cutoff: utc("2025-01-01 00:00:00"))
        let other = RecordPredicate.before(columns: ["u"], cutoff: utc("2024-01-01 00:00:00"))
        #expect((a && b) == b)
        #expect(((a && other) && b) == .and([b, other]))
        #expect(RecordPredicate.always.negated == .never)
        #expect(RecordPredicate.isNull("x").negated.negated == .isNull("x"))
    }
}
