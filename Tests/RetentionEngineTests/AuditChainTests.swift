import Crypto
import Foundation
import GRDB
import RetentionEngine
import Synchronization
import Testing

/// The audit chain against someone who can write the state database: drops the triggers, edits a
/// record, cuts off the tail and recomputes every hash as docs/engine.md describes. The key and
/// the anchors outside the file must show it; the chain alone cannot.
@Suite("Audit chain: key and anchors")
struct AuditChainTests {
    static let hmacKey = HMACKey(bytes: Data("0123456789abcdef0123456789abcdef".utf8))
    static let key = AuditKey(derivedFrom: hmacKey)

    /// What the state database hands out after each commit (the journal, in the daemon).
    final class Anchors: Sendable {
        let list = Mutex<[AuditAnchor]>([])
        func append(_ anchor: AuditAnchor) { list.withLock { $0.append(anchor) } }
        var all: [AuditAnchor] { list.withLock { $0 } }
    }

    /// Three audit records from two passes over the usual 100 records, appended with the key and
    /// anchored.
    static func keyedChain(_ fixture: Fixture) async throws -> (Engine, Anchors) {
        _ = try EngineTests.seed(fixture)
        let anchors = Anchors()
        var engine = try fixture.engine { $0.maxDeleteShare = 1 }
        engine.state = try StateDatabase(path: fixture.statePath, auditKey: key, anchor: { anchors.append($0) })
        _ = try await engine.runPass(at: EngineTests.now)
        _ = try await engine.runPass(at: EngineTests.now.addingTimeInterval(3 * 86_400))
        #expect(try engine.database.auditRecords().count == 3)
        return (engine, anchors)
    }

    /// The attack: drop the guards, run `change`, optionally cut off the last record together with
    /// its job, then recompute every previous_hash and hash with the documented canonical text.
    static func tamper(_ path: String, _ change: String, cutTail: Bool) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete")
            if !change.isEmpty { try db.execute(sql: change) }
            if cutTail {
                try db.execute(sql: "DELETE FROM job WHERE id = (SELECT job FROM audit ORDER BY sequence DESC LIMIT 1)")
                try db.execute(sql: "DELETE FROM audit WHERE sequence = (SELECT max(sequence) FROM audit)")
            }
            var previous = String(repeating: "0", count: 64)
            for row in try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY sequence") {
                let fields = ["sequence", "job", "rule", "store", "dataset", "stage", "action", "outcome", "cutoff", "count",
                              "started_at", "finished_at", "keys_sha256"].map { row[$0].map { "\($0)" } ?? "" }
                var text = (fields + [previous]).joined(separator: "\n")
                if let note: String = row["note"] { text += "\n" + note }
                let hash = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
                try db.execute(sql: "UPDATE audit SET previous_hash = ?, hash = ? WHERE sequence = ?", arguments: [previous, hash, row["sequence"]])
                previous = hash
            }
        }
    }

    @Test("a count rewritten, the tail cut off and the hashes recomputed: the chain alone looks intact, the key, the journal's anchors and a noted head do not")
    func recomputedRewrite() async throws {
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short, objection"))
        let (engine, anchors) = try await Self.keyedChain(fixture)
        let clean = try engine.database.verifyAudit(anchors: anchors.all)
        #expect(clean.problems.isEmpty && clean.keyedFrom == 1 && clean.macsChecked && clean.anchoredThrough == 3, "\(clean)")
        #expect(clean.uncheckedMACs == nil && clean.unkeyedUnanchored == nil)
        let head = try #require(try engine.database.auditHead())
        #expect(head.sequence == 3 && anchors.all.last?.hash == head.hash && anchors.all.last?.chain == engine.database.chainID)
        #expect(anchors.all.map(\.sequence) == [1, 2, 3] && anchors.all.allSatisfy { $0.mac != nil && $0.state == fixture.statePath })

        try Self.tamper(fixture.statePath, "UPDATE audit SET count = count - 5 WHERE sequence = 1", cutTail: true)

        // What verify checked before: chain, links, sequence, finished jobs — all consistent now.
        let records = try engine.database.auditRecords()
        let finished = try engine.database.jobs(in: [.done, .failed, .cancelled]).map(\.id)
        #expect(records.count == 2 && AuditRecord.verify(records, finishedJobs: finished).isEmpty)

        // The key: record 1's MAC no longer matches, nor record 2's (its hash moved with the chain).
        let keyed = try engine.database.verifyAudit(anchors: [])
        #expect(keyed.problems.map(\.sequence) == [1, 2], "\(keyed.problems)")
        #expect(keyed.problems.allSatisfy { $0.message.contains("MAC does not match") })

        // The journal's anchors, even without the key: every record differs, and the tail is gone.
        let unkeyed = try StateDatabase(path: fixture.statePath)
        let anchored = try unkeyed.verifyAudit(anchors: anchors.all)
        let messages = anchored.problems.map(\.description)
        #expect(messages.contains { $0.hasPrefix("audit record 1:") && $0.contains("differs from the journal's anchor") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("audit record 3:") && $0.contains("record 3 was cut off") }, "\(messages)")

        // A head noted before the attack: the tail was cut.
        let byHead = try unkeyed.verifyAudit(anchors: [try #require(AuditAnchor(head: head.description))])
        #expect(byHead.problems.map(\.message).contains { $0.contains("the head anchors records up to 3") && $0.contains("cut off") }, "\(byHead.problems)")

        // Without key or anchor, a keyed chain is not called verified.
        let bare = try unkeyed.verifyAudit(anchors: [])
        #expect(bare.problems.isEmpty && bare.uncheckedMACs == 1...2)
    }

    @Test("only the tail cut off (with its job): a noted head and the journal's anchors show it, the key cannot")
    func truncation() async throws {
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short, objection"))
        let (engine, anchors) = try await Self.keyedChain(fixture)
        let head = try #require(try engine.database.auditHead())
        try Self.tamper(fixture.statePath, "", cutTail: true)
        #expect(try engine.database.verifyAudit(anchors: []).problems.isEmpty, "a genuine prefix of a keyed chain carries genuine MACs")
        let byJournal = try engine.database.verifyAudit(anchors: anchors.all)
        #expect(byJournal.problems.map(\.description) == ["audit record 3: the journal anchors records up to 3 (hash \(head.hash.prefix(12))…), but the chain ends at 2: record 3 was cut off"])
        #expect(byJournal.anchoredThrough == 2)
        #expect(try engine.database.verifyAudit(anchors: [AuditAnchor(head: head.description)!]).problems.count == 1)
    }

    @Test("MACs stripped from every record: the chain reads as never keyed, the journal's anchors carry the MACs")
    func strippedMACs() async throws {
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short, objection"))
        let (engine, anchors) = try await Self.keyedChain(fixture)
        try Self.tamper(fixture.statePath, "UPDATE audit SET mac = NULL", cutTail: false)
        let report = try engine.database.verifyAudit(anchors: [])
        #expect(report.problems.isEmpty && report.keyedFrom == nil && report.unkeyedUnanchored == 1...3)
        let anchored = try engine.database.verifyAudit(anchors: anchors.all)
        #expect(anchored.problems.count == 3 && anchored.problems.allSatisfy { $0.message.contains("MAC (none) differs") }, "\(anchored.problems)")
        // Stripped from the tail only: the record before is keyed, so these cannot be.
        let fixture2 = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short, objection"))
        let (engine2, _) = try await Self.keyedChain(fixture2)
        try Self.tamper(fixture2.statePath, "UPDATE audit SET mac = NULL WHERE sequence = 3", cutTail: false)
        #expect(try await engine2.state.verifyAudit(anchors: []).problems.map(\.sequence) == [3])
    }

    @Test("the chain's id changed to dodge the anchors: the MACs cover it")
    func chainIDChanged() async throws {
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short, objection"))
        let (engine, anchors) = try await Self.keyedChain(fixture)
        let queue = try DatabaseQueue(path: fixture.statePath)
        await #expect(throws: DatabaseError.self) { try await queue.write { db in try db.execute(sql: "UPDATE audit_chain SET id = 'x'") } }
        try await queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_chain_no_update")
            try db.execute(sql: "UPDATE audit_chain SET id = 'another'")
        }
        let reopened = try StateDatabase(path: fixture.statePath, auditKey: Self.key)
        #expect(reopened.chainID == "another")
        // Anchors of another chain are not compared...
        #expect(try reopened.verifyAudit(anchors: anchors.all).anchorsCompared == 0)
        // ...but no MAC matches under the new id.
        #expect(try reopened.verifyAudit(anchors: []).problems.count == 3)
        _ = engine
    }

    @Test("a keyed chain refuses a pass or a cancel without the key, before anything is touched")
    func unkeyedAppendRefused() async throws {
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short"))
        let queue = try EngineTests.seed(fixture)
        var engine = try fixture.engine { $0.maxDeleteShare = 1 }
        engine.state = try StateDatabase(path: fixture.statePath, auditKey: Self.key)
        _ = try await engine.runPass(at: EngineTests.now)
        let left = try keys(queue)
        try await queue.write { db in try db.execute(sql: "UPDATE records SET created_at = '2020-01-01 00:00:00' WHERE id = 1") }
        engine.state = try StateDatabase(path: fixture.statePath)
        let unkeyed = engine
        await #expect(throws: EngineError.self) { _ = try await unkeyed.runPass(at: EngineTests.now.addingTimeInterval(60)) }
        #expect(try keys(queue) == left, "nothing was deleted")
        let error = try #require(throws: StateError.self) { try engine.database.checkAuditKey() }
        #expect(error.message.contains("the audit chain is keyed (record 1 carries a MAC) and no key was given"))
        #expect(try engine.database.auditRecords().count == 1)
    }

    @Test("records from before keying stay valid, reported as unkeyed up to the first keyed one")
    func legacyPrefix() async throws {
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short, objection"))
        _ = try EngineTests.seed(fixture)
        var engine = try fixture.engine { $0.maxDeleteShare = 1 }
        _ = try await engine.runPass(at: EngineTests.now)
        engine.state = try StateDatabase(path: fixture.statePath, auditKey: Self.key)
        _ = try await engine.runPass(at: EngineTests.now.addingTimeInterval(3 * 86_400))
        let report = try engine.database.verifyAudit(anchors: [])
        #expect(report.problems.isEmpty && report.keyedFrom == 3 && report.unkeyedUnanchored == 1...2, "\(report)")
        // A head noted after them vouches for them too.
        let head = try #require(try engine.database.auditHead())
        let anchored = try engine.database.verifyAudit(anchors: [AuditAnchor(head: head.description)!])
        #expect(anchored.problems.isEmpty && anchored.unkeyedUnanchored == nil)
    }

    @Test("the audit key is HKDF-SHA256 of the hmac-key (salt 'retentiond', info 'retentiond audit chain v1'); the MAC is HMAC-SHA256 of chain id, newline, hash")
    func keyDerivation() {
        // python3 (docs/engine.md): prk = hmac.new(b"retentiond", key, sha256).digest()
        //   audit_key = hmac.new(prk, b"retentiond audit chain v1\x01", sha256).digest()
        //   hmac.new(audit_key, b"chain-1\n" + b"a" * 64, sha256).hexdigest()
        #expect(Self.key.mac(chain: "chain-1", hash: String(repeating: "a", count: 64))
                == "8b8a7e4c610510d6cd3d5129bf07f5c45c63df18ae6242e890839493da2b5ac3")
        // Not the pseudonymization key: an anonymized value never equals a MAC.
        #expect(Self.hmacKey.apply("chain-1\n" + String(repeating: "a", count: 64)) != Self.key.mac(chain: "chain-1", hash: String(repeating: "a", count: 64)))
    }

    @Test("heads and anchors from fields: malformed ones are refused", arguments: [
        "3:" + String(repeating: "a", count: 64), "0:" + String(repeating: "a", count: 64), "3:" + String(repeating: "A", count: 64),
        "3:abc", "x:" + String(repeating: "a", count: 64), String(repeating: "a", count: 64), "3:" + String(repeating: "a", count: 64) + ":1",
    ])
    func heads(text: String) {
        #expect((AuditAnchor(head: text) != nil) == (text == "3:" + String(repeating: "a", count: 64)))
    }
}
