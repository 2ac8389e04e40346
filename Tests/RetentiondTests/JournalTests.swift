import Foundation
import GRDB
import RetentionEngine
import Testing
@testable import retentiond
#if canImport(Glibc)
import Glibc
#endif

/// Entries written to the real systemd-journald and read back with `journalctl`; the catalog.
@Suite("journal", .serialized)
struct JournalTests {
    static var journalAvailable: Bool {
        let environment = ProcessInfo.processInfo.environment
        if environment["RETENTIOND_TEST_JOURNAL"] == "1" { return true }
        #expect(environment["RETENTIOND_REQUIRE_JOURNAL"] != "1", "journald required but scripts/with-journald did not provide one")
        return false
    }

    static func journalctl(_ arguments: [String]) throws -> String {
        try Support.run(["/usr/bin/env", "journalctl", "--no-pager"] + arguments, standardError: false).output
    }

    /// The entries matching `match` (journalctl field matches), polled until `count` are there.
    static func entries(_ match: [String], count: Int) throws -> [[String: String]] {
        var entries: [[String: String]] = []
        for _ in 0..<100 {
            entries = try journalctl(["-o", "json"] + match).split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            }.map { $0.compactMapValues { $0 as? String } }
            if entries.count >= count { break }
            usleep(50_000)
        }
        return entries
    }

    @Test("a pass's entries carry MESSAGE_ID, PRIORITY, CODE_* and the fields RULE, STORE, DATASET, JOB_ID, ACTION, STAGE, COUNT, CUTOFF")
    func fields() throws {
        guard Self.journalAvailable else { return }
        let rule = "journal-test-\(UUID().uuidString.prefix(8).lowercased())"
        let scenario = try Scenario(ages: [40 * 86_400, 35 * 86_400, 86_400], rule: rule)
        defer { scenario.remove() }
        let daemon = try Daemon(scenario.arguments + ["--once", "--log-target", "journal"], log: scenario.directory + "/daemon.log")
        #expect(daemon.wait(seconds: 60) == 0, "\(daemon.output)")
        #expect(daemon.output.isEmpty, "with --log-target journal nothing goes to stderr: \(daemon.output)")

        let done = try #require(Self.entries(["RULE=\(rule)", "MESSAGE_ID=\(MessageIDs.byEvent[.jobDone]!)"], count: 1).first)
        #expect(done["MESSAGE"]?.hasPrefix("job 1 done: deleted 2 records of app/events under rule \(rule)") == true, "\(done)")
        #expect(done["PRIORITY"] == "5")
        #expect(done["SYSLOG_IDENTIFIER"] == "retentiond")
        #expect(done["CODE_FILE"]?.hasSuffix(".swift") == true)
        #expect(Int(done["CODE_LINE"] ?? "") != nil)
        #expect(done["CODE_FUNC"]?.isEmpty == false)
        #expect(done["STORE"] == "app")
        #expect(done["DATASET"] == "events")
        #expect(done["JOB_ID"] == "1")
        #expect(done["ACTION"] == "delete")
        #expect(done["STAGE"] == "1")
        #expect(done["COUNT"] == "2")
        #expect(done["EVENT"] == "job-done")
        let cutoff = try #require(done["CUTOFF"])
        #expect(cutoff.hasSuffix("Z") && cutoff.count >= 20, "\(cutoff)")

        let planned = try Self.entries(["RULE=\(rule)", "MESSAGE_ID=\(MessageIDs.byEvent[.jobPlanned]!)"], count: 1)
        #expect(planned.count == 1)
        #expect(planned.first?["PRIORITY"] == "6")
        // Everything one job did, by JOB_ID and RULE, as the README shows auditors.
        #expect(try Self.entries(["RULE=\(rule)", "JOB_ID=1"], count: 2).count == 2)
    }

    @Test("an erasure an obligation defers reaches the journal as erasure-deferred, with OBLIGATIONS and UNTIL; its restriction job as job-done")
    func erasureDeferred() throws {
        guard Self.journalAvailable else { return }
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let (erasure, tax) = ("erasure-\(suffix)", "tax-\(suffix)")
        let scenario = try Scenario(ages: [])
        defer { scenario.remove() }
        try """
            version: 1
            defaults: {timezone: UTC}
            rules:
              \(tax):
                kind: obligation
                retain: 7y
                from: issued_at
                then: delete
                basis: tax law
              \(erasure):
                kind: erasure
                retain: 0d
                from: erasure_upheld_at
                then: delete
                basis: Art. 17(1) GDPR
            """.write(toFile: scenario.rulesPath, atomically: true, encoding: .utf8)
        try """
            version: 1
            stores:
              app:
                kind: sqlite
                path: app.sqlite
                datasets:
                  invoices:
                    table: invoices
                    key: id
                    rules: [\(tax), \(erasure)]
                    fields: {issued_at: issued_at, erasure_upheld_at: erasure_upheld_at}
                    restrict: restricted_at
            """.write(toFile: scenario.storesPath, atomically: true, encoding: .utf8)
        let queue = try DatabaseQueue(path: scenario.databasePath)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE invoices (id INTEGER PRIMARY KEY, issued_at TEXT, erasure_upheld_at TEXT, restricted_at TEXT);
                INSERT INTO invoices VALUES (1, '2025-06-01 10:00:00', '2026-01-05 09:00:00', NULL);
                INSERT INTO invoices VALUES (2, '2025-06-01 10:00:00', NULL, NULL);
                """)
        }
        try queue.close()
        let daemon = try Daemon(scenario.arguments + ["--once", "--log-target", "journal"], log: scenario.directory + "/daemon.log")
        #expect(daemon.wait(seconds: 60) == 0, "\(daemon.output)")

        let deferred = try #require(Self.entries(["RULE=\(erasure)", "MESSAGE_ID=\(MessageIDs.byEvent[.erasureDeferred]!)"], count: 1).first)
        #expect(deferred["MESSAGE"] == "1 records of app/invoices: erasure under rule \(erasure) deferred by rule \(tax) until "
                + "2032-06-01T10:00:00Z; 1 of them restricted now", "\(deferred)")
        #expect(deferred["EVENT"] == "erasure-deferred" && deferred["COUNT"] == "1" && deferred["PRIORITY"] == "5")
        #expect(deferred["OBLIGATIONS"] == tax && deferred["UNTIL"] == "2032-06-01T10:00:00Z", "\(deferred)")
        let restricted = try #require(Self.entries(["RULE=\(erasure)", "MESSAGE_ID=\(MessageIDs.byEvent[.jobDone]!)"], count: 1).first)
        #expect(restricted["ACTION"] == "restrict" && restricted["COUNT"] == "1", "\(restricted)")
    }

    @Test("every audit record is anchored in the journal (AUDIT_SEQUENCE, AUDIT_HASH, AUDIT_MAC, AUDIT_CHAIN, STATE); audit verify --journal finds a cut-off tail")
    func auditAnchors() throws {
        guard Self.journalAvailable else { return }
        let scenario = try Scenario(ages: [40 * 86_400, 35 * 86_400, 86_400])
        defer { scenario.remove() }
        let key = scenario.directory + "/hmac-key"
        try "0123456789abcdef0123456789abcdef\n".write(toFile: key, atomically: true, encoding: .utf8)
        let daemon = try Daemon(scenario.arguments + ["--once", "--log-target", "journal", "--log-level", "warning", "--hmac-key", key],
                                log: scenario.directory + "/daemon.log")
        #expect(daemon.wait(seconds: 60) == 0, "\(daemon.output)")
        let state = try DatabaseQueue(path: scenario.statePath)
        let (chain, hash, mac) = try state.read { db in
            (try String.fetchOne(db, sql: "SELECT id FROM audit_chain")!, try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE sequence = 1")!,
             try String.fetchOne(db, sql: "SELECT mac FROM audit WHERE sequence = 1"))
        }
        // Written whatever the log level (warning here).
        let anchor = try #require(Self.entries(["AUDIT_CHAIN=\(chain)"], count: 1).first)
        #expect(anchor["MESSAGE_ID"] == MessageIDs.byEvent[.auditAppended])
        #expect(anchor["AUDIT_SEQUENCE"] == "1" && anchor["AUDIT_HASH"] == hash && anchor["STATE"] == scenario.statePath)
        #expect(mac != nil && anchor["AUDIT_MAC"] == mac)
        #expect(anchor["SYSLOG_IDENTIFIER"] == "retentiond" && anchor["EVENT"] == "audit-appended")

        // retentionctl anchors the records it appends too, over journald's socket (no libsystemd).
        let retentionctl = URL(fileURLWithPath: Support.binary).deletingLastPathComponent().appendingPathComponent("retentionctl").path
        let store = try DatabaseQueue(path: scenario.databasePath)
        try store.write { db in try db.execute(sql: "INSERT INTO events VALUES (100, '2001-01-01 00:00:00')") }
        try store.close()
        let run = try Support.run([retentionctl, "run"] + scenario.arguments + ["--hmac-key", key, "--max-delete-share", "100", "-q"])
        #expect(run.status == 0, "\(run.output)")
        let second = try #require(Self.entries(["AUDIT_CHAIN=\(chain)", "AUDIT_SEQUENCE=2"], count: 1).first)
        #expect(second["SYSLOG_IDENTIFIER"] == "retentionctl" && second["MESSAGE_ID"] == MessageIDs.byEvent[.auditAppended])
        let intact = try Support.run([retentionctl, "audit", "verify", "--journal", "--state", scenario.statePath])
        #expect(intact.status == 0 && intact.output.contains("2 anchors compared, confirming records up to 2"), "\(intact.output)")
        // The attack: the last record and its job cut off, the guard dropped first.
        try state.write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE sequence = 2; DELETE FROM job WHERE id = 2")
        }
        let cut = try Support.run([retentionctl, "audit", "verify", "--journal", "--state", scenario.statePath])
        #expect(cut.status == 1 && cut.output.contains("the journal anchors records up to 2") && cut.output.contains("record 2 was cut off"), "\(cut.output)")
    }

    @Test("every kind of event has a fixed MESSAGE_ID and a catalog entry that uses only fields it has")
    func catalogCoversEveryEvent() throws {
        let catalog = try String(contentsOf: Support.repository.appendingPathComponent("catalog/retentiond.catalog"), encoding: .utf8)
        var entries: [String: String] = [:]
        var current: String?
        for line in catalog.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("-- ") { current = String(line.dropFirst(3)); entries[current!] = "" } else if let id = current { entries[id, default: ""] += line + "\n" }
        }
        #expect(Set(MessageIDs.byEvent.keys) == Set(EngineEvent.allCases))
        #expect(Set(MessageIDs.byEvent.values).count == EngineEvent.allCases.count, "ids are unique")
        #expect(Set(entries.keys) == Set(MessageIDs.byEvent.values))
        for (event, id) in MessageIDs.byEvent {
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit), "\(event): \(id)")
            let text = try #require(entries[id], "\(event)")
            #expect(text.hasPrefix("Subject: "), "\(event)")
            #expect(text.contains("Defined-By: retentiond"))
            // Fields the engine sets on job events; reload events have COUNT only.
            let allowed: Set<String> = event == .stateCreated ? ["STATE"] : [.rulesReloaded, .rulesRejected, .clockRefused].contains(event)
                ? ["COUNT"] : event == .auditAppended ? ["AUDIT_SEQUENCE", "AUDIT_HASH", "AUDIT_CHAIN", "STATE"]
                : ["RULE", "STORE", "DATASET", "JOB_ID", "ACTION", "STAGE", "COUNT", "CUTOFF"]
            let used = text.split(separator: "@", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
            #expect(Set(used).isSubset(of: allowed), "\(event) uses \(used)")
        }
    }

    @Test("journalctl -x explains an entry from the installed catalog, with its fields substituted")
    func explained() throws {
        guard Self.journalAvailable, getuid() == 0 else { return }
        // -x reads only the system's catalog database: install ours there for the test, then remove it.
        let directory = "/usr/local/lib/systemd/catalog", installed = directory + "/retentiond.catalog"
        guard !FileManager.default.fileExists(atPath: installed) else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Support.repository.appendingPathComponent("catalog/retentiond.catalog").path, toPath: installed)
        defer {
            try? FileManager.default.removeItem(atPath: installed)
            _ = try? Self.journalctl(["--update-catalog"])
        }
        _ = try Self.journalctl(["--update-catalog"])
        let rule = "journal-x-\(UUID().uuidString.prefix(8).lowercased())"
        let scenario = try Scenario(ages: [40 * 86_400], rule: rule)
        defer { scenario.remove() }
        let daemon = try Daemon(scenario.arguments + ["--once", "--log-target", "journal"], log: scenario.directory + "/daemon.log")
        #expect(daemon.wait(seconds: 60) == 0)
        _ = try Self.entries(["RULE=\(rule)"], count: 2)
        let explained = try Self.journalctl(["-x", "RULE=\(rule)", "MESSAGE_ID=\(MessageIDs.byEvent[.jobDone]!)"])
        #expect(explained.contains("Subject: Retention job 1 done: 1 records of app/events (delete)"), "\(explained)")
        #expect(explained.contains("under rule \(rule) (stage 1) the action delete"), "\(explained)")
    }
}
