import Foundation
import GRDB
import Testing
import TestSupport

/// `retentionctl audit verify|head` against the attack of issue 12 on a real state database: the
/// triggers dropped, a count rewritten, the last record cut off (with its job) and every hash
/// recomputed with the algorithm docs/engine.md gives — by an independent Python script.
@Suite("retentionctl audit: key, head and journal anchors", .serialized)
struct AuditCommandTests {
    /// Three datasets, each with due records: one `run` appends three audit records.
    struct Scenario {
        let directory: String
        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("retentionctl-audit-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try """
                version: 1
                defaults: {timezone: UTC}
                rules:
                  short:
                    retain: 30d
                    from: created_at
                    then: delete
                    basis: test
                """.write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
            let datasets = ["a", "b", "c"].map { """
                      \($0):
                        table: \($0)
                        key: id
                        rules: [short]
                        fields: {created_at: created_at}
                """ }.joined(separator: "\n")
            try "version: 1\nstores:\n  app:\n    kind: sqlite\n    path: app.sqlite\n    datasets:\n\(datasets)\n"
                .write(toFile: directory + "/stores.yaml", atomically: true, encoding: .utf8)
            let queue = try DatabaseQueue(path: directory + "/app.sqlite")
            try queue.write { db in
                for table in ["a", "b", "c"] {
                    try db.execute(sql: "CREATE TABLE \(table) (id INTEGER PRIMARY KEY, created_at TEXT)")
                    for id in 1...10 {
                        try db.execute(sql: "INSERT INTO \(table) VALUES (?, datetime('now', ?))", arguments: [id, "-\(id * 10) days"])
                    }
                }
            }
            try queue.close()
            try "0123456789abcdef0123456789abcdef\n".write(toFile: key, atomically: true, encoding: .utf8)
        }
        var key: String { directory + "/hmac-key" }
        var state: String { directory + "/state.sqlite" }
        var run: [String] {
            ["run", "--rules", directory + "/rules.yaml", "--stores", directory + "/stores.yaml", "--state", state, "--init", "--max-delete-share", "100", "-q"]
        }
        func remove() { try? FileManager.default.removeItem(atPath: directory) }

        /// `journalctl -o json` lines as journald would give the anchors of every record now in the
        /// chain, plus an entry of another chain and one that is no anchor.
        func journalExport() throws -> String {
            let queue = try DatabaseQueue(path: state)
            defer { try? queue.close() }
            return try queue.read { db in
                let chain = try String.fetchOne(db, sql: "SELECT id FROM audit_chain")!
                var lines = try Row.fetchAll(db, sql: "SELECT sequence, hash, mac FROM audit ORDER BY sequence").map { row in
                    let fields: [String: String] = ["MESSAGE_ID": "194cd2cea8c14da7ae13079264ecc13d", "AUDIT_SEQUENCE": "\(row["sequence"] as Int64)",
                                                    "AUDIT_HASH": row["hash"], "AUDIT_MAC": row["mac"], "AUDIT_CHAIN": chain, "STATE": state,
                                                    "__CURSOR": "s=1;i=\(row["sequence"] as Int64)"]
                    return String(decoding: try JSONSerialization.data(withJSONObject: fields), as: UTF8.self)
                }
                lines.append(#"{"AUDIT_SEQUENCE":"9","AUDIT_HASH":"\#(String(repeating: "b", count: 64))","AUDIT_CHAIN":"other","STATE":"/elsewhere"}"#)
                lines.append(#"{"MESSAGE":"retentiond started","PRIORITY":"6"}"#)
                return lines.joined(separator: "\n") + "\n"
            }
        }
    }

    /// The attack, in Python as an auditor or an attacker would write it from docs/engine.md.
    static let attack = #"""
        import hashlib, sqlite3, sys
        FIELDS = ["sequence", "job", "rule", "store", "dataset", "stage", "action", "outcome", "cutoff",
                  "count", "started_at", "finished_at", "keys_sha256", "previous_hash"]
        db = sqlite3.connect(sys.argv[1])
        db.row_factory = sqlite3.Row
        db.executescript("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
        db.execute("UPDATE audit SET count = count + 100 WHERE sequence = 1")
        db.execute("DELETE FROM job WHERE id = (SELECT job FROM audit ORDER BY sequence DESC LIMIT 1)")
        db.execute("DELETE FROM audit WHERE sequence = (SELECT max(sequence) FROM audit)")
        previous = "0" * 64
        for record in db.execute("SELECT * FROM audit ORDER BY sequence").fetchall():
            record = dict(record, previous_hash=previous)
            text = "\n".join(str(record[field]) for field in FIELDS)
            if record["note"] is not None:
                text += "\n" + record["note"]
            digest = hashlib.sha256(text.encode()).hexdigest()
            db.execute("UPDATE audit SET previous_hash = ?, hash = ? WHERE sequence = ?", (previous, digest, record["sequence"]))
            previous = digest
        db.commit()
        """#

    static func python(_ script: String, _ arguments: [String]) throws -> RetentionCtlTests.Run {
        try ProgramRun.run("/usr/bin/env", ["python3", "-c", script] + arguments)
    }

    /// The chain checker of docs/engine.md, pointed at `state` and `key`.
    static func documentedChecker(state: String, key: String?) throws -> String {
        let page = try String(contentsOf: RetentionCtlTests.repository.appendingPathComponent("docs/engine.md"), encoding: .utf8)
        let blocks = page.components(separatedBy: "```python\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        let checker = try #require(blocks.first { $0.contains("chain ok; head") })
        #expect(checker.contains(#"STATE = "/var/lib/retentiond/state.sqlite""#) && checker.contains(#"HMAC_KEY = "/etc/retentiond/credentials/hmac-key""#))
        return checker.replacingOccurrences(of: #"STATE = "/var/lib/retentiond/state.sqlite""#, with: "STATE = \"\(state)\"")
            .replacingOccurrences(of: #"HMAC_KEY = "/etc/retentiond/credentials/hmac-key""#, with: key.map { "HMAC_KEY = \"\($0)\"" } ?? "HMAC_KEY = None")
    }

    @Test("a count rewritten, the tail cut off, the hashes recomputed: verify with the key, a noted head or the journal's anchors says BROKEN")
    func recomputedRewrite() throws {
        let scenario = try Scenario()
        defer { scenario.remove() }
        let run = try RetentionCtlTests.run(scenario.run + ["--hmac-key", scenario.key])
        #expect(run.status == 0, "\(run.stderr)")

        let clean = try RetentionCtlTests.run(["audit", "verify", "--state", scenario.state, "--hmac-key", scenario.key])
        #expect(clean.status == 0 && clean.stdout.contains("keyed from record 1: MACs checked with the audit key")
                && clean.stdout.contains("audit trail intact: 3 records, chain verified"), "\(clean.stdout)")
        let head = try RetentionCtlTests.run(["audit", "head", "--state", scenario.state])
        let noted = head.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(head.status == 0 && noted.hasPrefix("3:") && noted.count == 66 && clean.stdout.contains("head \(noted)"), "\(head.stdout)")
        let journal = scenario.directory + "/journal.json"
        try scenario.journalExport().write(toFile: journal, atomically: true, encoding: .utf8)
        let anchored = try RetentionCtlTests.run(["audit", "verify", "--state", scenario.state, "--journal-file", journal])
        #expect(anchored.status == 0 && anchored.stdout.contains("3 anchors compared, confirming records up to 3"), "\(anchored.stdout)")
        let checked = try Self.python(try Self.documentedChecker(state: scenario.state, key: scenario.key), [])
        #expect(checked.status == 0 && checked.stdout.contains("chain ok; head \(noted.dropFirst(2))"), "\(checked.stderr)")

        let attacked = try Self.python(Self.attack, [scenario.state])
        #expect(attacked.status == 0, "\(attacked.stderr)")
        // The chain against itself is consistent again: what verify checked before the key.
        let alone = try Self.python(try Self.documentedChecker(state: scenario.state, key: nil), [])
        #expect(alone.status == 0, "\(alone.stderr)")

        let keyed = try RetentionCtlTests.run(["audit", "verify", "--state", scenario.state, "--hmac-key", scenario.key])
        #expect(keyed.status == 1 && keyed.stdout.contains("audit record 1: its MAC does not match under the audit key")
                && keyed.stdout.contains("audit trail BROKEN: 2 problems in 2 records"), "\(keyed.stdout)")
        let byHead = try RetentionCtlTests.run(["audit", "verify", "--state", scenario.state, "--head", noted])
        #expect(byHead.status == 1 && byHead.stdout.contains("audit record 3: the head anchors records up to 3")
                && byHead.stdout.contains("record 3 was cut off"), "\(byHead.stdout)")
        let byJournal = try RetentionCtlTests.run(["audit", "verify", "--state", scenario.state, "--journal-file", journal])
        #expect(byJournal.status == 1 && byJournal.stdout.contains("audit record 1: its hash")
                && byJournal.stdout.contains("differs from the journal's anchor") && byJournal.stdout.contains("record 3 was cut off"), "\(byJournal.stdout)")
        let bare = try RetentionCtlTests.run(["audit", "verify", "--state", scenario.state])
        #expect(bare.status == 1 && bare.stdout.contains("audit trail NOT VERIFIED: records 1…2 carry MACs"), "\(bare.stdout)")
        let documented = try Self.python(try Self.documentedChecker(state: scenario.state, key: scenario.key), [])
        #expect(documented.status != 0 && documented.stderr.contains("AssertionError: 1"), "\(documented.stderr)")
    }

    @Test("a keyed chain: run without the key refuses before touching anything; a journal with no anchor of this chain is no verification")
    func keyedChainNeedsKey() throws {
        let scenario = try Scenario()
        defer { scenario.remove() }
        #expect(try RetentionCtlTests.run(scenario.run + ["--hmac-key", scenario.key]).status == 0)
        let queue = try DatabaseQueue(path: scenario.directory + "/app.sqlite")
        try queue.write { db in try db.execute(sql: "INSERT INTO a VALUES (99, datetime('now', '-100 days'))") }
        let refused = try RetentionCtlTests.run(scenario.run)
        #expect(refused.status == 1 && refused.stderr.contains("the audit chain is keyed (record 3 carries a MAC) and no key was given"), "\(refused.stderr)")
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM a WHERE id = 99") } == 1)
        try queue.close()

        let foreign = scenario.directory + "/foreign.json"
        try #"{"AUDIT_SEQUENCE":"9","AUDIT_HASH":"\#(String(repeating: "b", count: 64))","AUDIT_CHAIN":"other","STATE":"\#(scenario.state)"}"#
            .write(toFile: foreign, atomically: true, encoding: .utf8)
        let none = try RetentionCtlTests.run(["audit", "verify", "--state", scenario.state, "--hmac-key", scenario.key, "--journal-file", foreign])
        #expect(none.status == 1 && none.stdout.contains("the journal holds no anchor of this chain")
                && none.stdout.contains("it holds anchors of other for this same path"), "\(none.stdout)")
        let garbage = scenario.directory + "/garbage.json"
        try "not json\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let unreadable = try RetentionCtlTests.run(["audit", "verify", "--state", scenario.state, "--journal-file", garbage])
        #expect(unreadable.status == 1 && unreadable.stderr.contains("line 1: expected one JSON object per line"), "\(unreadable.stderr)")
        #expect(try RetentionCtlTests.run(["audit", "verify", "--state", scenario.state, "--head", "3:abc"]).status == 2)
    }

    @Test("an unkeyed chain stays intact, with a warning that nothing outside the file vouches for it")
    func unkeyed() throws {
        let scenario = try Scenario()
        defer { scenario.remove() }
        #expect(try RetentionCtlTests.run(scenario.run).status == 0)
        let verify = try RetentionCtlTests.run(["audit", "verify", "--state", scenario.state])
        #expect(verify.status == 0 && verify.stdout.contains("no record is keyed")
                && verify.stdout.contains("warning: records 1…3 are neither keyed nor anchored"), "\(verify.stdout)")
    }
}
