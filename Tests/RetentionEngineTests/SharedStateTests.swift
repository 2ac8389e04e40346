import Foundation
import GRDB
import Logging
@testable import PostgresState
@testable import RetentionEngine
import RetentionRules
import RetentionStores
import Synchronization
import Testing
import TestSupport

/// Several daemons on one PostgreSQL state (issue 14 item 2): engines with state stores of their
/// own (separate connections, different daemon ids) on one state database and one SQLite store,
/// in one process. One plans at a time, no stage is planned twice, a job runs in one daemon, a
/// job whose claim expired is taken over and settled exactly, the daemon that lost it is fenced,
/// and daemons with other rules refuse.
@Suite("Shared PostgreSQL state")
struct SharedStateTests {
    static let now = EngineTests.now

    /// An engine on the fixture's store and the shared state database, as daemon `id`.
    static func engine(_ fixture: Fixture, _ database: PostgresTestDatabase, id: String, ttl: Duration = .seconds(30),
                       logger: Logger? = nil, _ configure: (inout EngineOptions) -> Void = { $0.maxDeleteShare = 1 }) async throws -> Engine {
        var engine = try fixture.engine(configure)
        engine.state = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, creation: .ifMissing,
                                                         daemonID: id, leaseTTL: ttl)
        if let logger { engine.logger = logger }
        return engine
    }

    static func shared(_ engine: Engine) -> PostgresStateStore {
        engine.state as! PostgresStateStore
    }

    static func digest(_ range: ClosedRange<Int64>) -> String {
        var digest = KeyDigest()
        digest.add(range.map { RecordKey.integer($0) })
        return digest.hex
    }

    @Test("one leader at a time: the second daemon follows, the lease renews, and an expired one is taken in a new term")
    func oneLeader() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let open = { (id: String) async throws -> PostgresStateStore in
            try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, creation: .ifMissing, daemonID: id,
                                              leaseTTL: .seconds(4))
        }
        let first = try await open("host-a:1"), second = try await open("host-b:2")
        #expect(try await first.lead(rulesDigest: "d1") == .leader(term: 1, elected: true))
        #expect(try await second.lead(rulesDigest: "d1") == .follower(holder: "host-a:1", term: 1, rulesDigest: "d1"))
        #expect(try await first.lead(rulesDigest: "d1") == .leader(term: 1, elected: false))
        #expect(try database.psql("SELECT identifier FROM retentiond_migration WHERE identifier = 'v6-leases'") == "v6-leases")
        // The first stops renewing (died): after the lease, by the server's clock, the second takes it.
        try await Task.sleep(for: .milliseconds(4400))
        #expect(try await second.lead(rulesDigest: "d1") == .leader(term: 2, elected: true))
        #expect(try await first.lead(rulesDigest: "d1") == .follower(holder: "host-b:2", term: 2, rulesDigest: "d1"))
        // Reopened, the lease schema is known rather than taken for a later retentiond's.
        await first.close()
        let again = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile)
        await again.close()
        await second.close()
    }

    @Test("no stage is planned twice while a job is open for it: the database refuses the second and says so")
    func plannedOnce() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let state = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, creation: .ifMissing, daemonID: "a")
        _ = try await state.lead(rulesDigest: "d")
        let job = StateStoreTests.job()
        let first = try await state.insert(job)
        let error = await #expect(throws: StateError.self) { try await state.insert(job) }
        #expect(error?.kind == .alreadyPlanned(existing: nil) && error?.message.contains("another daemon planned it") == true,
                "\(String(describing: error))")
        // Once it ended, the stage may be planned again.
        var ended = first
        (ended.state, ended.finishedAt) = (.cancelled, Self.now)
        try await state.finish(ended)
        #expect(try await state.insert(job).id > first.id)
        await state.close()
    }

    @Test("two daemons running a pass at once: one plans, the job runs once, exactly the due rows go, one audit record")
    func twoDaemonsOnePass() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short"))
        let queue = try EngineTests.seed(fixture)
        let engines = [try await Self.engine(fixture, database, id: "host-a:1") { $0.maxDeleteShare = 1; $0.batchSize = 5 },
                       try await Self.engine(fixture, database, id: "host-b:2") { $0.maxDeleteShare = 1; $0.batchSize = 5 },
                       try await Self.engine(fixture, database, id: "host-c:3") { $0.maxDeleteShare = 1; $0.batchSize = 5 }]
        let reports = try await withThrowingTaskGroup(of: PassReport.self) { group in
            for engine in engines { group.addTask { try await engine.runPass(at: Self.now) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(try keys(queue) == Set(1...29))
        let jobs = try await engines[0].state.jobs(in: [])
        #expect(jobs.count == 1 && jobs.first?.state == .done && jobs.first?.doneCount == 71, "\(jobs)")
        #expect(jobs.first?.keysDigest.hex == Self.digest(30...100))
        #expect(reports.flatMap(\.finished).count == 1)
        let audit = try await engines[1].state.verifyAudit(anchors: [])
        #expect(audit.records == 1 && audit.problems.isEmpty, "\(audit.problems)")
        #expect(try database.psql("SELECT term FROM leader") == "1")
        for engine in engines { await engine.state.close() }
    }

    @Test("a job claimed by one daemon is not run by another")
    func claimedElsewhere() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short"))
        let queue = try EngineTests.seed(fixture)
        // Planned, waiting for approval (71 of 100 is past the default guard); approved by hand.
        let planner = try await Self.engine(fixture, database, id: "a") { _ in }
        var job = try #require(try await planner.runPass(at: Self.now).waiting.first)
        try job.approve(by: "test", at: Self.now)
        try await planner.state.update(job)
        let holder = Self.shared(planner)
        #expect(try await holder.claim(job.id) != nil)
        let other = try await Self.engine(fixture, database, id: "b")
        let report = try await other.runPass(at: Self.now)
        #expect(report.finished.isEmpty)
        #expect(try keys(queue).count == 100)
        #expect(try await other.state.job(job.id)?.state == .planned)
        await planner.state.close()
        await other.state.close()
    }

    @Test("a claim that expired mid-batch is taken over and the batch settled exactly; the daemon that lost it is fenced and writes nothing")
    func takeoverAndFence() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short"))
        let queue = try EngineTests.seed(fixture)
        let crashed = try await Self.engine(fixture, database, id: "host-a:1", ttl: .seconds(4)) { _ in }
        var job = try #require(try await crashed.runPass(at: Self.now).waiting.first)
        try job.approve(by: "test", at: Self.now)
        try await crashed.state.update(job)
        // Daemon a claims the job, writes a batch's keys down, its store transaction commits, and
        // then it freezes before recording the batch done.
        let state = Self.shared(crashed)
        let claim = try #require(try await state.claim(job.id))
        try job.start(at: Self.now)
        try await state.update(job)
        let batch = (30...49).map { RecordKey.integer(Int64($0)) }
        try await state.beginBatch(of: job.id, keys: batch)
        try await queue.write { db in try db.execute(sql: "DELETE FROM records WHERE id BETWEEN 30 AND 49") }
        try await Task.sleep(for: .milliseconds(4400))
        let taker = try await Self.engine(fixture, database, id: "host-b:2")
        let report = try await taker.runPass(at: Self.now)
        let done = try #require(report.finished.first)
        #expect(done.state == .done && done.doneCount == 71 && done.keysDigest.hex == Self.digest(30...100), "\(done)")
        #expect(try keys(queue) == Set(1...29))
        // Daemon a resumes: its write is refused, distinctly, and changes nothing.
        var stale = job
        stale.doneCount = 20
        stale.lastKey = batch.last
        let error = await #expect(throws: StateError.self) { try await state.finishBatch(of: stale) }
        #expect(error?.kind == .fenced(job: job.id) && error?.message.contains("host-a:1") == true, "\(String(describing: error))")
        let after = try #require(try await taker.state.job(job.id))
        #expect(after.state == .done && after.doneCount == 71)
        let holder = try database.psql("SELECT claimed_by FROM job WHERE id = \(job.id)")
        #expect(claim.token > 0 && holder == "host-b:2")
        let audit = try await taker.state.verifyAudit(anchors: [])
        #expect(audit.records == 1 && audit.problems.isEmpty)
        await crashed.state.close()
        await taker.state.close()
    }

    @Test("a daemon whose rules differ from the live leader's refuses to plan or run, naming both digests")
    func rulesDiffer() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short"))
        let queue = try EngineTests.seed(fixture)
        let leader = try await Self.engine(fixture, database, id: "host-a:1") { _ in }
        _ = try await leader.runPass(at: Self.now)
        var other = try await Self.engine(fixture, database, id: "host-b:2")
        let longer = RuleSet.merge([(file: "rules.yaml", text: EngineTests.rules.replacingOccurrences(of: "retain: 30d", with: "retain: 60d"))])
        other.rules = longer.ruleSet
        #expect(other.rulesDigest != leader.rulesDigest)
        let error = await #expect(throws: EngineError.self) { try await other.runPass(at: Self.now) }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains(other.rulesDigest) && message.contains(leader.rulesDigest) && message.contains("host-a:1"), "\(message)")
        #expect(try keys(queue).count == 100)
        // The same rules, in another process, give the same digest.
        let third = try await Self.engine(fixture, database, id: "c")
        #expect(third.rulesDigest == leader.rulesDigest)
        await third.state.close()
        await leader.state.close()
        await other.state.close()
    }
}

extension SharedStateTests {
    @Test("a daemon refused for other rules leaves the locked rules as the leader's remembered them: a stricter form of its own would hold the leader's lock")
    func refusedRulesAreNotRemembered() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let locked = EngineTests.rules.replacingOccurrences(of: "retain: 30d", with: "retain: 30d\n    lock: true")
        let fixture = Fixture(rules: locked, stores: EngineTests.stores("short"))
        _ = try EngineTests.seed(fixture)
        var leader = try await Self.engine(fixture, database, id: "host-a:1")
        leader.rules = RuleSet.merge([(file: "rules.yaml", text: locked)]).ruleSet
        _ = try await leader.runPass(at: Self.now)
        let remembered = try await leader.state.lockedRules()
        #expect(remembered.contains { $0.rule == "short" })
        var other = try await Self.engine(fixture, database, id: "host-b:2")
        other.rules = RuleSet.merge([(file: "rules.yaml", text: locked.replacingOccurrences(of: "retain: 30d", with: "retain: 60d"))]).ruleSet
        await #expect(throws: EngineError.self) { try await other.runPass(at: Self.now.addingTimeInterval(60)) }
        #expect(try await leader.state.lockedRules() == remembered)
        _ = try await leader.runPass(at: Self.now.addingTimeInterval(120))
        await leader.state.close()
        await other.state.close()
    }

    @Test("a pass begun seconds behind another daemon's is taken; behind its own, or an hour behind another's, it is refused")
    func passClockSkew() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let first = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, creation: .ifMissing, daemonID: "a")
        let second = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, daemonID: "b")
        let results = await { () async -> [Bool] in
            var results: [Bool] = []
            for (state, at) in [(first, Self.now), (second, Self.now - 5), (first, Self.now - 1), (second, Self.now - 3_600)] {
                results.append((try? await state.beginPass(at: at, maximumGap: nil)) != nil)
            }
            return results
        }()
        #expect(results == [true, true, false, false])
        await first.close()
        await second.close()
    }

    @Test("a holder known dead on this host is one whose process is gone; this process, another host's, or a name that is no pid, are not")
    func deadHolders() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let state = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, creation: .ifMissing)
        let exited = try ProgramRun.run("/usr/bin/env", ["sh", "-c", "echo $$"])
        let gone = try #require(Int32(exited.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let me = PostgresStateStore.defaultDaemonID()
        let host = me.split(separator: ":").dropLast().joined(separator: ":")
        #expect(state.isDeadHere("\(host):\(gone)"))
        #expect(!state.isDeadHere(me))
        #expect(!state.isDeadHere("\(host):1"))
        #expect(!state.isDeadHere("other-host-\(UUID().uuidString):\(gone)"))
        #expect(!state.isDeadHere("\(host)"))
        await state.close()
    }
}

extension SharedStateTests {
    @Test("a fenced daemon's PostgreSQL store batch is rolled back: its conditional state write fails inside the store's transaction, and the rows stay")
    func fencedBatchRolledBack() async throws {
        guard let database = try PostgresTestDatabase.create(), let (dsn, password) = PartitionTests.server() else { return }
        let table = "fenced_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try PostgresShell.psql("""
            CREATE TABLE \(table) (id bigint PRIMARY KEY, created_at timestamptz NOT NULL);
            INSERT INTO \(table) SELECT g, timestamptz '\(InstantText.format(Self.now))' - g * interval '1 day' FROM generate_series(1, 100) g;
            """)
        let stores = """
            version: 1
            stores:
              web:
                kind: postgres
                dsn: \(dsn)
                datasets:
                  records: {table: \(table), key: id, rules: [short], fields: {created_at: created_at}}
            """
        let fixture = Fixture(rules: EngineTests.rules, stores: stores)
        var engine = try await Self.engine(fixture, database, id: "host-a:1", ttl: .seconds(4)) { _ in }
        engine.connector = StoreConnectors(postgresPasswordFile: password)
        var job = try #require(try await engine.runPass(at: Self.now).waiting.first)
        try job.approve(by: "test", at: Self.now)
        try await engine.state.update(job)
        let state = Self.shared(engine)
        _ = try #require(try await state.claim(job.id))
        let store = try #require(engine.stores["web"]), dataset = try #require(store.datasets.first)
        let connection = try await engine.connector.connect(to: store)
        // Closed whatever happens below: a connection dropped open traps postgres-nio's check and ends the whole test run.
        do { try await Self.fenceBatch(connection, dataset, job, table: table, state: state, database: database) } catch {
            await connection.close()
            await engine.state.close()
            throw error
        }
        await connection.close()
        await engine.state.close()
    }

    private static func fenceBatch(_ connection: any StoreConnection, _ dataset: Dataset, _ job: Job, table: String, state: PostgresStateStore,
                                   database: PostgresTestDatabase) async throws {
        let id = job.id
        let writer = try #require(connection as? any BatchWriter)
        let keys = try await writer.keys(dataset, where: job.predicate, from: .anywhere, limit: 10)
        #expect(keys.count == 10)
        // While the claim holds, the batch commits.
        // The state write runs inside the store's transaction, after its changes: from outside, nothing is gone yet.
        let seen = Mutex("")
        let first = try await writer.apply(.delete, to: dataset, keys: Array(keys.prefix(5)), where: job.predicate) {
            try await state.confirm(id)
            let outside = try PostgresShell.psql("SELECT count(*) FROM \(table)")
            seen.withLock { $0 = outside }
        }
        #expect(first.count == 5 && seen.withLock { $0 } == "100")
        #expect(try PostgresShell.psql("SELECT count(*) FROM \(table)") == "95")
        // The claim runs out and another daemon takes the job: the next batch is rolled back.
        try await Task.sleep(for: .milliseconds(4400))
        let other = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, daemonID: "host-b:2")
        #expect(try await other.claim(job.id)?.tookOverFrom == "host-a:1")
        let error = await #expect(throws: StateError.self) {
            try await writer.apply(.delete, to: dataset, keys: Array(keys.suffix(5)), where: job.predicate) { try await state.confirm(id) }
        }
        #expect(error?.kind == .fenced(job: job.id), "\(String(describing: error))")
        #expect(try PostgresShell.psql("SELECT count(*) FROM \(table)") == "95")
        await other.close()
    }
}

extension SharedStateTests {
    /// The engine's journal lines, for what a test asserts of them.
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])

        var logger: Logger {
            var logger = Logger(label: "test") { _ in Handler(lines: self) }
            logger.logLevel = .info
            return logger
        }

        struct Handler: LogHandler {
            let lines: Lines
            var logLevel: Logger.Level = .info
            var metadata: Logger.Metadata = [:]
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                let lease = event.metadata?["lease"].map { " [lease=\($0)]" } ?? ""
                lines.lines.withLock { $0.append("\(event.message)\(lease)") }
            }
        }
    }

    @Test("a daemon whose claim ran out while it ran a job is fenced at its next batch and stops, saying so; the next daemon takes over and the counts stay exact")
    func fencedEngineStops() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short"))
        let queue = try EngineTests.seed(fixture)
        let lines = Lines()
        let frozen = try await Self.engine(fixture, database, id: "host-a:1", ttl: .seconds(4), logger: lines.logger) {
            $0.maxDeleteShare = 1; $0.batchSize = 5
        }
        // After its first batch, the daemon stalls past its claim (a freeze, a long GC pause).
        let stalled = Mutex(false)
        let report = try await frozen.runPass(at: Self.now) { _ in
            if !stalled.withLock({ let was = $0; $0 = true; return was }) { Thread.sleep(forTimeInterval: 4.4) }
        }
        #expect(report.finished.isEmpty)
        #expect(try keys(queue).count == 95)
        let text = lines.lines.withLock { $0 }.joined(separator: "\n")
        #expect(text.contains("fenced, stopping") && text.contains("[lease=fenced]") && text.contains("elected leader (term 1) as host-a:1"), "\(text)")
        let job = try #require(try await frozen.state.jobs(in: []).first)
        #expect(job.state == .running && job.doneCount == 5)
        let next = Lines()
        let taker = try await Self.engine(fixture, database, id: "host-b:2", logger: next.logger) { $0.maxDeleteShare = 1; $0.batchSize = 5 }
        let done = try #require(try await taker.runPass(at: Self.now).finished.first)
        #expect(done.doneCount == 71 && done.keysDigest.hex == Self.digest(30...100))
        #expect(try keys(queue) == Set(1...29))
        let taken = next.lines.withLock { $0 }.joined(separator: "\n")
        #expect(taken.contains("took over from host-a:1") && taken.contains("[lease=took-over]"), "\(taken)")
        #expect(try await taker.state.verifyAudit(anchors: []).problems.isEmpty)
        await frozen.state.close()
        await taker.state.close()
    }
}
