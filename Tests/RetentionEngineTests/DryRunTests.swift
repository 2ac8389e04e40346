import Foundation
import GRDB
import Logging
import RetentionEngine
import RetentionRules
import RetentionStores
import Testing
import TestSupport

/// `run --dry-run` makes the decisions of the pass that would follow, and only skips the writes
/// (issue 13): each test runs a dry pass, then the real pass at the same instant, and compares
/// them job by job — which job, what it ends as, how many records, why.
///
/// The forecast (`plan`) these dry runs used before answers a different question — what is due,
/// stage by stage — and got each of these wrong: it counted a record two erasures both make due
/// twice, listed a job the mass-deletion guard holds back as if it would run, and planned again a
/// stage whose job is still open.
@Suite("Dry run equals the pass", .serialized)
struct DryRunTests {
    /// What a report says of one job, without its id (a dry run's new jobs have none).
    struct Outcome: Hashable, CustomStringConvertible {
        var job: String
        var state: Job.State
        var count: Int
        var reason: String?

        init(_ job: Job, count: Int) {
            self.job = "\(job.store)/\(job.dataset) \(job.rule) stage \(job.stage + 1) \(job.action.rawValue)"
            state = job.state
            self.count = count
            reason = job.reason
        }

        var description: String { "\(job): \(state.rawValue) \(count)" + (reason.map { " (\($0))" } ?? "") }
    }

    static func outcomes(_ report: PassReport) -> [Outcome] {
        report.finished.map { Outcome($0, count: $0.doneCount) } + report.waiting.map { Outcome($0, count: $0.plannedCount) }
    }

    /// Runs a dry pass and then the real one at `now`; checks the dry one wrote nothing and said
    /// what the real one did. Returns the real pass's report.
    @discardableResult
    static func dryRunThenPass(_ engine: Engine, at now: Date, files: [String]) async throws -> PassReport {
        var dry = engine
        dry.options.dryRun = true
        let before = try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        let jobsBefore = try engine.database.jobs()
        let lastPass = try engine.database.lastPassClock()
        let preview = try await dry.runPass(at: now)
        #expect(try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == before, "the dry run wrote to a file")
        #expect(try engine.database.jobs() == jobsBefore)
        #expect(try engine.database.lastPassClock() == lastPass)
        let report = try await engine.runPass(at: now)
        #expect(Self.outcomes(preview) == Self.outcomes(report))
        // An open job keeps its id in the dry run; a new one has none yet.
        #expect(preview.finished.map(\.id).filter { $0 != 0 } == report.finished.map(\.id).filter { id in jobsBefore.contains { $0.id == id } })
        #expect(preview.deferred == report.deferred)
        #expect(preview.wouldPlan.map(\.due) == report.finished.filter { $0.state == .done }.map(\.doneCount))
        return report
    }

    // MARK: - Rules that overlap

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let now = Date(timeIntervalSince1970: 1_795_176_000)      // 2026-11-20T12:00:00Z
    static func daysAgo(_ days: Double) -> String { SQLiteTimeText.text(now.addingTimeInterval(-days * 86_400)) }

    @Test("KYOCERA's account erasures overlap: an account both unused for two years and asked to be deleted is deleted once, and counted once")
    func overlappingErasures() async throws {
        // 003: "Inaktiva användarkonton ska raderas ett år efter senaste användningen" and "ska vi
        // radera ditt användarkonto inom 30 dagar efter din förfrågan": account 3 qualifies twice.
        let directory = TemporaryDirectory()
        let queue = try DatabaseQueue(path: directory.path + "/app.sqlite")
        try await queue.write { db in
            try db.execute(sql: """
                CREATE TABLE accounts (id INTEGER PRIMARY KEY, created_at TEXT, first_login_at TEXT, last_used_at TEXT,
                                       deactivated_at TEXT, deletion_requested_at TEXT);
                CREATE TABLE invoices (id INTEGER PRIMARY KEY, issued_at TEXT, fiscal_year_closed_at TEXT, erasure_upheld_at TEXT, restricted_at TEXT);
                """)
            let rows: [(Int, Double, Double?, Double?, Double?)] = [
                (1, 900, 899, 95, 89), (2, 900, 899, 6, 5), (3, 1000, 999, 730, 40), (4, 91, nil, nil, 60), (5, 400, 399, 2, nil),
            ]
            for (id, created, login, used, requested) in rows {
                try db.execute(sql: "INSERT INTO accounts VALUES (?, ?, ?, ?, NULL, ?)",
                               arguments: [id, Self.daysAgo(created), login.map(Self.daysAgo), used.map(Self.daysAgo), requested.map(Self.daysAgo)])
            }
            // 2024's invoice is kept for tax although its erasure was upheld: restricted, deferred.
            try db.execute(sql: "INSERT INTO invoices VALUES (1, '2024-12-31 11:00:00', '2024-12-31 11:00:00', ?, NULL)", arguments: [Self.daysAgo(20)])
        }
        let engine = try Self.seedEngine(directory: directory, stores: """
            version: 1
            stores:
              app:
                kind: sqlite
                path: app.sqlite
                datasets:
                  accounts:
                    table: accounts
                    key: id
                    rules: [kfs-user-accounts-active, kfs-user-accounts-inactive, kfs-user-accounts-never-logged-in, kfs-user-account-deletion-requests]
                    fields: {account_deactivated_at: deactivated_at, last_used_at: last_used_at, first_login_at: first_login_at,
                             account_created_at: created_at, account_deletion_requested_at: deletion_requested_at}
                  invoices:
                    table: invoices
                    key: id
                    rules: [kmbe-tax-documents, kmbe-erasure-request]
                    fields: {fiscal_year_closed_at: fiscal_year_closed_at, tax_document_issued_at: issued_at,
                             erasure_request_upheld_at: erasure_upheld_at}
                    restrict: restricted_at
            """)
        // What the forecast says is due counts account 3 under both erasures (and 4 under two).
        let forecast = try await engine.plan(at: Self.now).entries.filter { $0.dataset == "accounts" && $0.due > 0 }
        let report = try await Self.dryRunThenPass(engine, at: Self.now, files: [directory.path + "/app.sqlite", directory.path + "/state.sqlite"])
        let deleted = report.finished.filter { $0.dataset == "accounts" }.reduce(0) { $0 + $1.doneCount }
        #expect(deleted == 4)
        #expect(forecast.reduce(0) { $0 + $1.due } > deleted, "the scenario must overlap: \(forecast.map { "\($0.rule) \($0.due)" })")
        #expect(try await queue.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM accounts") } == [5])
        #expect(report.deferred.map(\.rule) == ["kmbe-erasure-request"])
    }

    static func seedEngine(directory: TemporaryDirectory, stores: String) throws -> Engine {
        let rules = try RuleSet.load(paths: [repository + "/rules"])
        #expect(rules.diagnostics.errors.isEmpty, "\(rules.diagnostics.errors)")
        let load = StoreSet.merge([(file: directory.path + "/stores.yaml", text: stores)], rules: rules.ruleSet)
        #expect(load.diagnostics.errors.isEmpty, "\(load.diagnostics.errors)")
        var options = EngineOptions()
        options.maxDeleteShare = 1
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return Engine(rules: rules.ruleSet, stores: load.storeSet, state: try StateDatabase(path: directory.path + "/state.sqlite", creation: .ifMissing),
                      connector: StoreConnectors(), options: options, logger: logger)
    }

    // MARK: - Guards, grace windows and open jobs

    @Test("the mass-deletion guard, a grace window and an approval: each dry run says what its pass does")
    func guardGraceAndOpenJobs() async throws {
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short, tracking", extra: """
              later:
                kind: sqlite
                path: store.sqlite
                datasets:
                  copies:
                    table: copies
                    key: id
                    rules: [tracking]
                    fields: {visited_at: created_at}
                    anonymize: {ip: truncate-ip}
                    anonymized-at: anonymized_at
                    grace: 1d
            """))
        let queue = try EngineTests.seed(fixture)
        try await queue.write { db in try db.execute(sql: "CREATE TABLE copies AS SELECT * FROM records") }
        let engine = try fixture.engine { $0.maxDeleteShare = 0.05 }
        let files = [fixture.databasePath, fixture.statePath]
        let now = EngineTests.now

        // `short` and `tracking` both delete the 11 records 90 days old: more than the guard's 5%,
        // so both jobs wait; the forecast would have shown two deletions of 11.
        let first = try await Self.dryRunThenPass(engine, at: now, files: files)
        #expect(first.waiting.filter { $0.dataset == "records" && $0.state == .awaitingApproval }.map(\.plannedCount) == [11, 11])
        #expect(first.waiting.contains { $0.dataset == "copies" && $0.notBefore > now }, "the grace window holds the second job")
        #expect(try keys(queue).count == 100)

        // Undecided, an hour later: the same jobs wait; nothing is planned twice.
        try await Self.dryRunThenPass(engine, at: now.addingTimeInterval(3_600), files: files)

        // One approved, and the grace window over: the open jobs run; `short` plans its next 2
        // records (ages 88 and 89 two days on), after the 11 the approved job deletes — the dry
        // run counts them without the 11, as the pass finds them.
        let held = try #require(try engine.database.jobs(in: [.awaitingApproval]).first)
        _ = try await engine.database.approve(held.id, by: "dpo", at: now.addingTimeInterval(3_600))
        let third = try await Self.dryRunThenPass(engine, at: now.addingTimeInterval(2 * 86_400), files: files)
        #expect(third.finished.contains { $0.id == held.id && $0.state == .done && $0.doneCount == 11 })
        #expect(third.finished.contains { $0.dataset == "copies" && $0.action == .anonymize && $0.doneCount == 94 })
        #expect(try keys(queue).count == 87)
    }

    @Test("a hold placed on a dataset whose job waits: the dry run says the job stays paused, as the pass does")
    func holdPausesOpenJob() async throws {
        let fixture = Fixture(rules: EngineTests.rules, stores: EngineTests.stores("short"))
        _ = try EngineTests.seed(fixture)
        let engine = try fixture.engine()
        let now = EngineTests.now
        _ = try await engine.runPass(at: now)
        let held = try #require(try engine.database.jobs(in: [.awaitingApproval]).first)
        _ = try await engine.database.approve(held.id, by: "dpo", at: now)
        _ = try engine.database.addHold(.dataset(store: "crm", dataset: "records"), reason: "litigation", by: "legal", at: now)
        let report = try await Self.dryRunThenPass(engine, at: now.addingTimeInterval(60), files: [fixture.databasePath, fixture.statePath])
        #expect(report.waiting.first?.reason?.contains("paused by hold") == true)
    }
}
