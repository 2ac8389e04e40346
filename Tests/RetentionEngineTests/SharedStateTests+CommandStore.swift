import Foundation
import Logging
@testable import PostgresState
@testable import RetentionEngine
import RetentionRules
import RetentionStores
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A command store's program on a shared state: the claim is renewed while it runs, and a claim
/// lost meanwhile stops it (`JobRunner.whileClaimed`).
extension SharedStateTests {
    /// A command store whose program answers a count at once and, for the job, writes its pid to
    /// `pid`, sleeps `seconds`, touches `finished` and reports 3 records done.
    static func commandFixture(sleeping seconds: Int) throws -> Fixture {
        var fixture = Fixture(rules: EngineTests.rules, stores: "")
        let directory = fixture.directory.path, script = directory + "/purge"
        try """
            #!/bin/sh
            read -r request
            case "$request" in
              *'"operation":"count"'*) echo '{"count": 3, "total": 10}' ;;
              *) echo $$ > \(directory)/pid; sleep \(seconds); touch \(directory)/finished
                 echo '{"status": "done", "count": 3, "keys": ["a", "b", "c"]}' ;;
            esac
            """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        fixture.storesText = """
            version: 1
            stores:
              vendor:
                kind: command
                exec: \(script)
                timeout: 120
                datasets:
                  events: {rules: [short], fields: {created_at: event_time}}
            """
        return fixture
    }

    /// The pid the program wrote, once it did.
    static func programPID(_ fixture: Fixture) async throws -> Int32 {
        for _ in 0..<1200 {
            if let text = try? String(contentsOfFile: fixture.directory.path + "/pid", encoding: .utf8),
               let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) { return pid }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw StateError(path: fixture.directory.path, message: "the program never started")
    }

    @Test("a command store's program running past the claim's lease keeps the claim renewed: no other daemon takes the job meanwhile, and it ends done once")
    func commandOutlastsLease() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let fixture = try Self.commandFixture(sleeping: 10)
        let engine = try await Self.engine(fixture, database, id: "host-a:1", ttl: .seconds(6))
        let other = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, daemonID: "host-b:2")
        let pass = Task { try await engine.runPass(at: Self.now) }
        _ = try await Self.programPID(fixture)
        let job = try #require(try await other.jobs(in: [.running]).first)
        let started = ContinuousClock.now
        var lastAttempt = started
        while !FileManager.default.fileExists(atPath: fixture.directory.path + "/finished") {
            lastAttempt = .now
            #expect(try await other.claim(job.id) == nil, "taken over while the program ran")
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(started.duration(to: lastAttempt) > .seconds(6), "tried to take the job over until \(started.duration(to: lastAttempt)), past the 6 s lease")
        let report = try await pass.value
        #expect(report.finished.map(\.state) == [.done] && report.finished.first?.doneCount == 3)
        let audit = try await other.verifyAudit(anchors: [])
        #expect(audit.records == 1 && audit.problems.isEmpty, "\(audit.problems)")
        await other.close()
        await engine.state.close()
    }

    @Test("a daemon whose claim is taken over while its command store's program runs stops the program's process group and leaves the job, saying so")
    func commandFenced() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let fixture = try Self.commandFixture(sleeping: 60)
        let lines = Lines(), events = Events()
        let engine = try await Self.engine(fixture, database, id: "host-a:1", ttl: .seconds(6), logger: Logger(label: "test") { _ in
            MultiplexLogHandler([Lines.Handler(lines: lines), Events.Handler(events: events)])
        })
        let other = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, daemonID: "host-b:2")
        let pass = Task { try await engine.runPass(at: Self.now) }
        let pid = try await Self.programPID(fixture)
        let job = try #require(try await other.jobs(in: [.running]).first)
        // As if host-a had been cut off past its lease: the claim runs out and host-b takes the job.
        try database.psql("UPDATE job SET claim_expires_at = now() - interval '1 second' WHERE id = \(job.id)")
        #expect(try await other.claim(job.id)?.tookOverFrom == "host-a:1")
        let started = ContinuousClock.now
        let report = try await pass.value
        #expect(started.duration(to: .now) < .seconds(30), "the program was stopped \(started.duration(to: .now)) after the takeover")
        #expect(report.finished.isEmpty)
        #expect(kill(pid, 0) == -1 && errno == ESRCH, "the program \(pid) still runs")
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.path + "/finished"))
        #expect(try await other.job(job.id)?.state == .running)
        #expect(try database.psql("SELECT claimed_by FROM job WHERE id = \(job.id)") == "host-b:2")
        #expect(lines.lines.withLock { $0 }.contains { $0.contains("job \(job.id): fenced") && $0.hasSuffix("[lease=fenced]") },
                "\(lines.lines.withLock { $0 })")
        // The journal's MESSAGE_IDs come from these (MessageIDs, the catalog).
        let recorded = events.all
        #expect(recorded.contains { $0["event"] == "leader-elected" && $0["term"] == "1" && $0["daemon"] == "host-a:1" }, "\(recorded)")
        #expect(recorded.contains { $0["event"] == "job-fenced" && $0["job_id"] == "\(job.id)" && $0["daemon"] == "host-a:1" }, "\(recorded)")
        await other.close()
        await engine.state.close()
    }

    /// The metadata of every entry the engine logs, as text.
    final class Events: Sendable {
        let entries = Mutex<[[String: String]]>([])
        var all: [[String: String]] { entries.withLock { $0 } }

        struct Handler: LogHandler {
            let events: Events
            var logLevel: Logger.Level = .info
            var metadata: Logger.Metadata = [:]
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                let fields = (event.metadata ?? [:]).mapValues { "\($0)" }
                events.entries.withLock { $0.append(fields) }
            }
        }
    }
}
