import Foundation
import GRDB
import Logging
import RetentionEngine
import RetentionRules
import RetentionStores
import Synchronization
import Testing
import TestSupport

/// The seeds' own rules bound together as a privacy officer binds them (issue 11), against real
/// SQLite and PostgreSQL stores:
///
/// - KYOCERA's four account rules on one `accounts` table. 003: "Vi ska behålla dina
///   personuppgifter relaterade till ditt användarkonto så länge du har ett aktivt användarkonto",
///   "Inaktiva användarkonton ska raderas ett år efter senaste användningen", "Om du inte loggar in
///   för första gången inom 30 dagar efter skapandet av kontot raderar vi det", "ska vi radera ditt
///   användarkonto inom 30 dagar efter din förfrågan". A request, an account unused for two years and
///   one never logged into are deleted whatever the "active" purpose says; the active one is kept.
/// - Konica Minolta Belgium's invoices. 000 §5: "Tax documents are kept for 7 years"; §2.3: erasure
///   does not apply where the data "serves to fulfil a legal obligation". An upheld erasure on an
///   invoice is deferred and the invoice restricted until its tax period ends, then deleted at once.
@Suite("Rule kinds on real stores", .serialized)
struct RuleKindsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let now = Date(timeIntervalSince1970: 1_795_176_000)      // 2026-11-20T12:00:00Z

    /// Instants relative to `now`, in days.
    static func daysAgo(_ days: Double) -> Date { now.addingTimeInterval(-days * 86_400) }

    struct Account {
        var id: Int64
        var created: Date
        var firstLogin: Date?
        var lastUsed: Date?
        var deletionRequested: Date?
    }

    static let accounts = [
        Account(id: 1, created: daysAgo(900), firstLogin: daysAgo(899), lastUsed: daysAgo(95), deletionRequested: daysAgo(89)),
        Account(id: 2, created: daysAgo(900), firstLogin: daysAgo(899), lastUsed: daysAgo(6), deletionRequested: daysAgo(5)),
        Account(id: 3, created: daysAgo(1000), firstLogin: daysAgo(999), lastUsed: daysAgo(730)),
        Account(id: 4, created: daysAgo(91)),
        Account(id: 5, created: daysAgo(400), firstLogin: daysAgo(399), lastUsed: daysAgo(2)),
        Account(id: 6, created: daysAgo(10)),
    ]

    struct Invoice {
        var id: Int64
        var fiscalYearClosed: Date
        var erasureUpheld: Date?
    }

    /// Invoice 1's fiscal year closed in 2024: its 7 years end with 2031, at 2032-01-01T00:00 in Brussels.
    static let taxPeriodEnd = Date(timeIntervalSince1970: 1_956_524_400)   // 2032-01-01T00:00:00+01:00
    static let invoices = [
        Invoice(id: 1, fiscalYearClosed: Date(timeIntervalSince1970: 1_735_642_800), erasureUpheld: daysAgo(20)),  // 2024-12-31T12:00+01:00
        Invoice(id: 2, fiscalYearClosed: Date(timeIntervalSince1970: 1_514_718_000), erasureUpheld: daysAgo(20)),  // 2017-12-31T12:00+01:00
        Invoice(id: 3, fiscalYearClosed: Date(timeIntervalSince1970: 1_735_642_800)),
    ]

    static let datasets = """
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
        """

    /// Log messages, as the journal would get them.
    final class Capture: LogHandler, @unchecked Sendable {
        let lines = Mutex<[(message: String, metadata: Logger.Metadata)]>([])
        var logLevel: Logger.Level = .debug
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            lines.withLock { $0.append(("\(event.message)", event.metadata ?? [:])) }
        }
        func events(_ event: EngineEvent) -> [(message: String, metadata: Logger.Metadata)] {
            lines.withLock { $0.filter { $0.metadata["event"] == "\(event.rawValue)" } }
        }
    }

    func engine(stores: String, directory: TemporaryDirectory, connector: StoreConnectors, capture: Capture) throws -> Engine {
        let rules = try RuleSet.load(paths: [Self.repository + "/rules"])
        #expect(rules.diagnostics.errors.isEmpty, "\(rules.diagnostics.errors)")
        let load = StoreSet.merge([(file: directory.path + "/stores.yaml", text: stores)], rules: rules.ruleSet)
        #expect(load.diagnostics.errors.isEmpty, "\(load.diagnostics.errors)")
        var options = EngineOptions()
        options.maxDeleteShare = 1
        return Engine(rules: rules.ruleSet, stores: load.storeSet, state: try StateDatabase(path: directory.path + "/state.sqlite", creation: .ifMissing),
                      connector: connector, options: options, logger: Logger(label: "test") { _ in capture })
    }

    /// The whole story on one store, given how to read its tables.
    func scenario(_ engine: Engine, capture: Capture, remaining: (String) throws -> Set<Int64>,
                  restricted: () throws -> Set<Int64>) async throws {
        // plan: the late request is a deadline violation; the invoice's erasure is deferred, not late.
        let plan = try await engine.plan(at: Self.now)
        let request = try #require(plan.entries.first { $0.rule == "kfs-user-account-deletion-requests" })
        #expect(request.kind == .erasure && request.due == 2 && request.overdue == 1)
        let deferral = try #require(plan.entries.first { $0.rule == "kmbe-erasure-request" && $0.isDeferral })
        #expect(deferral.due == 1 && deferral.deferred?.count == 1)
        #expect(deferral.deferred?.obligations.map(\.rule) == ["kmbe-tax-documents"])
        #expect(deferral.deferred?.firstRelease == Self.taxPeriodEnd)

        // explain: every rule with its kind, and who decides.
        let asked = try #require(try await engine.explain(store: "app", dataset: "accounts", key: .integer(1), at: Self.now))
        #expect(asked.decision.outcome == .deleted(rule: "kfs-user-account-deletion-requests", late: true))
        #expect(asked.verdicts.map(\.rule.kind) == [.purpose, .erasure, .erasure, .erasure])
        let active = try #require(try await engine.explain(store: "app", dataset: "accounts", key: .integer(5), at: Self.now))
        #expect(active.decision.outcome == .kept(by: "kfs-user-accounts-active", until: nil))
        let invoice = try #require(try await engine.explain(store: "app", dataset: "invoices", key: .integer(1), at: Self.now))
        #expect(invoice.decision.outcome == .deferred(erasure: "kmbe-erasure-request", by: ["kmbe-tax-documents"], until: Self.taxPeriodEnd))
        #expect(invoice.decision.restrictedBy == "kmbe-erasure-request")
        #expect(invoice.deletion?.rule == "kmbe-erasure-request" && invoice.deletion?.at == Self.taxPeriodEnd)

        // run: the erasures beat the "active" purpose; the tax duty beats the erasure.
        let report = try await engine.runPass(at: Self.now)
        #expect(try remaining("accounts") == [5, 6])
        #expect(try remaining("invoices") == [1, 3])
        #expect(try restricted() == [1])
        #expect(report.deferred.map(\.rule) == ["kmbe-erasure-request"])
        let deleted = report.finished.filter { $0.action == .delete }.reduce(into: [String: Int]()) { $0[$1.rule, default: 0] += $1.doneCount }
        #expect(deleted == ["kfs-user-account-deletion-requests": 2, "kfs-user-accounts-inactive": 1,
                            "kfs-user-accounts-never-logged-in": 1, "kmbe-erasure-request": 1])
        // The journal says why, and the audit keeps it.
        let deferredEvents = capture.events(.erasureDeferred)
        #expect(deferredEvents.count == 1)
        #expect(deferredEvents.first?.message.contains("deferred by rule kmbe-tax-documents until 2031-12-31T23:00:00Z") == true)
        #expect(deferredEvents.first?.metadata["obligations"] == "kmbe-tax-documents")
        #expect(capture.events(.deadlineMissed).map { $0.metadata["rule"] } == ["kfs-user-account-deletion-requests"])
        #expect(capture.events(.deadlineMissed).first?.metadata["count"] == "1")
        let restriction = try #require(try engine.database.auditRecords().first { $0.action == "restrict" })
        #expect(restriction.rule == "kmbe-erasure-request" && restriction.count == 1)
        #expect(restriction.note == "erasure under rule kmbe-erasure-request deferred by rule kmbe-tax-documents until 2031-12-31T23:00:00Z")
        #expect(try engine.database.verifyAudit().problems.isEmpty)
        // The daemon wakes by the moment the tax period ends.
        let wake = try #require(try await engine.nextWake(after: Self.now))
        #expect(wake <= Self.taxPeriodEnd)

        // Five years on (the clock check wants a person's word for such a gap): a pass just before
        // the tax period ends keeps the invoice; one at its end deletes it.
        _ = try engine.database.acceptClock(at: Self.taxPeriodEnd.addingTimeInterval(-2), by: "test: five years later")
        _ = try await engine.runPass(at: Self.taxPeriodEnd.addingTimeInterval(-1))
        #expect(try remaining("invoices").contains(1))
        let missedBefore = capture.events(.deadlineMissed).count
        let last = try await engine.runPass(at: Self.taxPeriodEnd)
        #expect(!(try remaining("invoices").contains(1)))
        #expect(last.finished.contains { $0.rule == "kmbe-erasure-request" && $0.action == .delete && $0.doneCount == 1 })
        #expect(capture.events(.deadlineMissed).count == missedBefore, "a deferred erasure done when its obligation ends is not late")
        #expect(try engine.database.verifyAudit().problems.isEmpty)
    }

    @Test("SQLite: KYOCERA's account rules delete as the policy says; an erased invoice is restricted until its tax period ends")
    func sqlite() async throws {
        let directory = TemporaryDirectory()
        let queue = try DatabaseQueue(path: directory.path + "/app.sqlite")
        try await queue.write { db in
            try db.execute(sql: """
                CREATE TABLE accounts (id INTEGER PRIMARY KEY, created_at TEXT, first_login_at TEXT, last_used_at TEXT,
                                       deactivated_at TEXT, deletion_requested_at TEXT);
                CREATE TABLE invoices (id INTEGER PRIMARY KEY, issued_at TEXT, fiscal_year_closed_at TEXT, erasure_upheld_at TEXT, restricted_at TEXT);
                """)
            for a in Self.accounts {
                try db.execute(sql: "INSERT INTO accounts VALUES (?, ?, ?, ?, NULL, ?)",
                               arguments: [a.id, SQLiteTimeText.text(a.created), a.firstLogin.map(SQLiteTimeText.text), a.lastUsed.map(SQLiteTimeText.text),
                                           a.deletionRequested.map(SQLiteTimeText.text)])
            }
            for i in Self.invoices {
                try db.execute(sql: "INSERT INTO invoices VALUES (?, ?, ?, ?, NULL)",
                               arguments: [i.id, SQLiteTimeText.text(i.fiscalYearClosed), SQLiteTimeText.text(i.fiscalYearClosed), i.erasureUpheld.map(SQLiteTimeText.text)])
            }
        }
        let capture = Capture()
        let engine = try engine(stores: "version: 1\nstores:\n  app:\n    kind: sqlite\n    path: app.sqlite\n" + Self.datasets,
                                directory: directory, connector: StoreConnectors(), capture: capture)
        try await scenario(engine, capture: capture,
                           remaining: { table in try queue.read { db in Set(try Int64.fetchAll(db, sql: "SELECT id FROM \(table)")) } },
                           restricted: { try queue.read { db in Set(try Int64.fetchAll(db, sql: "SELECT id FROM invoices WHERE restricted_at IS NOT NULL")) } })
    }

    @Test("PostgreSQL: the same story in a real server")
    func postgres() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let dsn = environment["RETENTIOND_TEST_POSTGRES_DSN"], let password = environment["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"] else {
            #expect(environment["RETENTIOND_REQUIRE_POSTGRES"] != "1", "PostgreSQL required but scripts/with-postgres did not provide one")
            return
        }
        func literal(_ date: Date?) -> String { date.map { "'\(InstantText.format($0))'" } ?? "NULL" }
        var sql = """
            DROP TABLE IF EXISTS accounts, invoices;
            CREATE TABLE accounts (id bigint PRIMARY KEY, created_at timestamptz, first_login_at timestamptz, last_used_at timestamptz,
                                   deactivated_at timestamptz, deletion_requested_at timestamptz);
            CREATE TABLE invoices (id bigint PRIMARY KEY, issued_at timestamptz, fiscal_year_closed_at timestamptz,
                                   erasure_upheld_at timestamptz, restricted_at timestamptz);

            """
        for a in Self.accounts {
            sql += "INSERT INTO accounts VALUES (\(a.id), \(literal(a.created)), \(literal(a.firstLogin)), \(literal(a.lastUsed)), NULL, \(literal(a.deletionRequested)));\n"
        }
        for i in Self.invoices {
            sql += "INSERT INTO invoices VALUES (\(i.id), \(literal(i.fiscalYearClosed)), \(literal(i.fiscalYearClosed)), \(literal(i.erasureUpheld)), NULL);\n"
        }
        _ = try PostgresShell.psql(sql)
        let directory = TemporaryDirectory()
        let capture = Capture()
        let engine = try engine(stores: "version: 1\nstores:\n  app:\n    kind: postgres\n    dsn: \(dsn)\n" + Self.datasets,
                                directory: directory, connector: StoreConnectors(postgresPasswordFile: password), capture: capture)
        func ids(_ sql: String) throws -> Set<Int64> {
            Set(try PostgresShell.psql(sql).split(separator: "\n").compactMap { Int64($0) })
        }
        try await scenario(engine, capture: capture, remaining: { table in try ids("SELECT id FROM \(table)") },
                           restricted: { try ids("SELECT id FROM invoices WHERE restricted_at IS NOT NULL") })
    }
}

extension RuleKindsTests {
    @Test("a job approved under the old rules is narrowed by the new precedence: an obligation added meanwhile keeps its records")
    func resumeNarrowedByObligation() async throws {
        let purpose = """
            version: 1
            defaults: {timezone: UTC}
            rules:
              short:
                kind: purpose
                retain: 30d
                from: created_at
                then: delete
                basis: purpose
            """
        let stores = { (rules: String) in """
            version: 1
            stores:
              db:
                kind: sqlite
                path: store.sqlite
                datasets:
                  records: {table: records, key: id, rules: [\(rules)], fields: {created_at: created_at, type: type}, restrict: restricted_at}
            """ }
        let fixture = Fixture(rules: purpose, stores: stores("short"))
        let queue = try fixture.database { db in
            try db.execute(sql: "CREATE TABLE records (id INTEGER PRIMARY KEY, created_at TEXT, type TEXT, restricted_at TEXT)")
            for id in 1...100 {
                try db.execute(sql: "INSERT INTO records VALUES (?, ?, ?, NULL)",
                               arguments: [id, SQLiteTimeText.text(Self.daysAgo(60)), id % 2 == 0 ? "invoice" : "note"])
            }
        }
        let first = try await fixture.engine().runPass(at: Self.now)
        let held = try #require(first.waiting.first)
        #expect(held.state == .awaitingApproval && held.plannedCount == 100)
        // Before the approval, the rule author adds the tax duty for invoices.
        var changed = fixture
        changed.rulesText = purpose + """

              tax:
                kind: obligation
                retain: 7y
                from: created_at
                when: "type = 'invoice'"
                then: delete
                basis: tax law
            """
        changed.storesText = stores("short, tax")
        let engine = try changed.engine()
        _ = try await engine.database.approve(held.id, by: "dpo", at: Self.now.addingTimeInterval(1))
        let second = try await engine.runPass(at: Self.now.addingTimeInterval(2))
        #expect(second.finished.first { $0.id == held.id }?.doneCount == 50)
        let left = try await queue.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT type FROM records") }
        #expect(left == ["invoice"])
        #expect(try keys(queue).count == 50)
    }

    @Test("lock: true keeps the kind: an obligation cannot become a purpose or an erasure by a reload; a purpose may become an obligation")
    func lockedKind() async throws {
        let rules = """
            version: 1
            defaults: {timezone: UTC}
            rules:
              tax:
                kind: obligation
                retain: 7y
                from: created_at
                then: delete
                lock: true
                basis: tax law
            """
        let fixture = Fixture(rules: rules, stores: """
            version: 1
            stores:
              db:
                kind: sqlite
                path: store.sqlite
                datasets:
                  records: {table: records, key: id, rules: [tax], fields: {created_at: created_at}}
            """)
        _ = try fixture.database { db in try db.execute(sql: "CREATE TABLE records (id INTEGER PRIMARY KEY, created_at TEXT)") }
        _ = try await fixture.engine().runPass(at: Self.now)
        for weaker in ["purpose", "erasure"] {
            var changed = fixture
            changed.rulesText = rules.replacingOccurrences(of: "kind: obligation", with: "kind: \(weaker)")
            await #expect {
                _ = try await changed.engine().runPass(at: Self.now.addingTimeInterval(1))
            } throws: { error in
                "\(error)".contains("locked rule 'tax' was an obligation and is now a \(weaker)")
            }
        }
        // The other way round is a lengthening: a purpose locked, then made an obligation.
        var purpose = fixture
        purpose.rulesText = rules.replacingOccurrences(of: "kind: obligation", with: "kind: purpose")
        let second = Fixture(rules: purpose.rulesText, stores: fixture.storesText)
        _ = try second.database { db in try db.execute(sql: "CREATE TABLE records (id INTEGER PRIMARY KEY, created_at TEXT)") }
        _ = try await second.engine().runPass(at: Self.now)
        var stronger = second
        stronger.rulesText = rules
        _ = try await stronger.engine().runPass(at: Self.now.addingTimeInterval(1))
    }
}

/// `psql` against the server of scripts/with-postgres (PG* variables).
