import Foundation
@testable import PostgresState
import PostgresNIO
@testable import RetentionEngine
import RetentionRules
import Testing
import TestSupport

/// What the PostgreSQL state backend adds to the behaviour both backends share (`StateStoreTests`):
/// its schema is created only when asked and refused when newer; the audit trail is append-only
/// in the server too; two writers never fork the chain; a lost connection fails one call and the
/// next reconnects. Each test has a database of its own on the `scripts/with-postgres` cluster.
@Suite("PostgreSQL state")
struct PostgresStateTests {
    static let now = StateStoreTests.now
    static let key = AuditKey(derivedFrom: HMACKey(bytes: Data("0123456789abcdef0123456789abcdef".utf8)))

    static func open(_ database: PostgresTestDatabase, creation: StateCreation = .ifMissing, key: AuditKey? = nil) async throws(StateError) -> PostgresStateStore {
        try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, creation: creation, auditKey: key)
    }

    /// A job that ran and is done, ready for `finish`.
    static func done(_ state: PostgresStateStore, keys: [RecordKey]) async throws -> Job {
        // A dataset of its own: the state keeps one open job per store, dataset, rule and stage
        // (v6-leases), and callers have several open at once.
        var planned = StateStoreTests.job(.running)
        planned.dataset = "events-" + UUID().uuidString.lowercased()
        var job = try await state.insert(planned)
        job.keysDigest.add(keys)
        (job.state, job.doneCount, job.startedAt, job.finishedAt) = (.done, keys.count, now, now + 60)
        return job
    }

    @Test("a database without retentiond's tables is refused without --init, and nothing is created in it; with it, the schema is made")
    func missingSchema() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let error = await #expect(throws: StateError.self) { try await Self.open(database, creation: .refuse) }
        #expect(error?.message.contains("no retentiond state in this database") == true && error?.message.contains("--init") == true,
                "\(String(describing: error))")
        #expect(try database.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0")
        let state = try await Self.open(database)
        #expect(state.created && !state.chainID.isEmpty)
        #expect(try database.psql("SELECT string_agg(identifier, ',' ORDER BY identifier) FROM retentiond_migration")
                == "v1,v2-kinds,v3-clock,v4-locks,v5-audit-key,v6-leases,v7-audit-writer")
        await state.close()
        let again = try await Self.open(database, creation: .refuse)
        #expect(!again.created && again.chainID == state.chainID)
        await again.close()
    }

    @Test("a schema a later retentiond migrated is refused, naming the migration")
    func newerSchema() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        await (try await Self.open(database)).close()
        try database.psql("INSERT INTO retentiond_migration (identifier, applied_at) VALUES ('v9-leases', '2027-01-01T00:00:00Z')")
        let error = await #expect(throws: StateError.self) { try await Self.open(database) }
        #expect(error?.message.contains("migration 'v9-leases'") == true, "\(String(describing: error))")
    }

    @Test("a server that is not there: a clear error naming the URL, not the password")
    func unreachable() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let password = try String(contentsOfFile: database.passwordFile, encoding: .utf8).trimmingCharacters(in: .newlines)
        // Port 1 on loopback: nothing listens there.
        let error = await #expect(throws: StateError.self) {
            try await PostgresStateStore.open(url: "postgresql://retentiond@127.0.0.1:1/nowhere", passwordFile: database.passwordFile)
        }
        #expect(error?.message.contains("cannot reach the state database") == true, "\(String(describing: error))")
        #expect(error?.path == "postgresql://retentiond@127.0.0.1:1/nowhere?sslmode=disable")
        #expect(error.map { !$0.description.contains(password) } == true)
    }

    @Test("the audit trail is append-only in the server: UPDATE, DELETE and TRUNCATE of audit rows, and a change of the chain's id, are refused")
    func appendOnly() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let state = try await Self.open(database, key: Self.key)
        try await state.finish(try await Self.done(state, keys: [.integer(1)]))
        await state.close()
        for sql in ["UPDATE audit SET count = 0", "DELETE FROM audit", "TRUNCATE audit"] {
            let refused = try database.psqlFailing(sql)
            #expect(refused.status != 0 && refused.stderr.contains("the audit trail is append-only"), "\(sql): \(refused.stderr)")
        }
        for sql in ["UPDATE audit_chain SET id = 'other'", "DELETE FROM audit_chain", "INSERT INTO audit_chain VALUES ('second')"] {
            #expect(try database.psqlFailing(sql).status != 0, "\(sql)")
        }
        #expect(try database.psql("SELECT count(*) FROM audit WHERE count = 1") == "1")
    }

    @Test("two daemons finishing jobs at once append to one chain: no fork, no gap, and it verifies")
    func concurrentAppenders() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let first = try await Self.open(database, key: Self.key), second = try await Self.open(database, key: Self.key)
        let perWriter = 25
        try await withThrowingTaskGroup(of: Void.self) { group in
            for state in [first, second] {
                group.addTask {
                    for index in 0..<perWriter { try await state.finish(try await Self.done(state, keys: [.integer(Int64(index))])) }
                }
            }
            try await group.waitForAll()
        }
        let records = try await first.auditRecords()
        #expect(records.map(\.sequence) == Array(1...Int64(2 * perWriter)))
        #expect(Set(records.map(\.previousHash)).count == records.count)
        let report = try await second.verifyAudit(anchors: [])
        #expect(report.problems.isEmpty && report.records == 2 * perWriter && report.macsChecked, "\(report.problems)")
        await first.close()
        await second.close()
    }

    @Test("the connection lost between calls: that call fails saying so, the next reconnects by itself")
    func reconnects() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let state = try await Self.open(database)
        let job = try await state.insert(StateStoreTests.job())
        try database.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        var failures: [StateError] = []
        var read: Job?
        // The first call after the cut may still find the socket open and fail on it; within a few, one succeeds.
        for _ in 0..<3 where read == nil {
            do { read = try await state.job(job.id) } catch { failures.append(error) }
        }
        #expect(read == job)
        #expect(failures.count <= 1)
        #expect(failures.allSatisfy { $0.message.contains("lost the connection") || $0.message.contains("cannot reach") }, "\(failures)")
        await state.close()
    }

    @Test("a job row another version wrote, with an action this one does not know, reads as unreadable and ends audited as written")
    func unreadableRow() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let state = try await Self.open(database, key: Self.key)
        let inserted = try await state.insert(StateStoreTests.job(.running))
        try database.psql("UPDATE job SET action = 'frobnicate', cutoff = 'yesterday' WHERE id = \(inserted.id)")
        var job = try #require(try await state.job(inserted.id))
        #expect(job.unreadable?.contains("'frobnicate'") == true && job.unreadable?.contains("'yesterday'") == true)
        (job.state, job.reason, job.finishedAt) = (.failed, job.unreadable, Self.now)
        let record = try await state.finish(job)
        #expect(record.action == "frobnicate" && record.cutoff == "yesterday" && record.outcome == "failed")
        #expect(try database.psql("SELECT action || ' ' || cutoff || ' ' || state FROM job WHERE id = \(inserted.id)") == "frobnicate yesterday failed")
        #expect(try await state.verifyAudit(anchors: []).problems.isEmpty)
        await state.close()
    }
}

extension PostgresStateTests {
    @Test("a writer stopped while it holds the chain's head (here psql, asleep in its transaction) makes an append fail after the lock timeout, not hang; afterwards appends go on")
    func frozenWriter() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let state = try await Self.open(database)
        let job = try await Self.done(state, keys: [.integer(1)])
        let timeout = try await state.transaction { connection in
            try await connection.query("SHOW lock_timeout", logger: state.logger).decode(String.self).first { _ in true }
        }
        #expect(timeout == "10s")
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = ["psql", "-X", "-q", "-d", database.name, "-c",
                            "BEGIN; SELECT id FROM audit_chain FOR UPDATE; SELECT pg_sleep(120); COMMIT;"]
        holder.standardOutput = FileHandle.nullDevice
        try holder.run()
        // Until psql holds the lock.
        for _ in 0..<100 {
            if try database.psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'audit_chain' AND l.mode = 'RowShareLock'") != "0" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let started = Date()
        let error = await #expect(throws: StateError.self) { try await state.finish(job) }
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= 9 && waited < 60, "waited \(waited) s")
        #expect(error?.message.contains("lock timeout") == true, "\(String(describing: error))")
        try database.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'psql' AND pid <> pg_backend_pid()")
        holder.waitUntilExit()
        #expect(try await state.finish(job).sequence == 1)
        #expect(try await state.verifyAudit(anchors: []).problems.isEmpty)
        await state.close()
    }
}

extension PostgresStateTests {
    @Test("a state made by a retentiond before several daemons (v1…v5) gets v6-leases and v7-audit-writer at its next open, without --init; the first lead finds them")
    func olderSchemaMigratedAtOpen() async throws {
        guard let database = try PostgresTestDatabase.create() else { return }
        let older = StateSchema.migrations.prefix { $0.identifier != "v6-leases" }
        #expect(older.map(\.identifier) == ["v1", "v2-kinds", "v3-clock", "v4-locks", "v5-audit-key"])
        try database.psql((["CREATE TABLE retentiond_migration (identifier text COLLATE \"C\" PRIMARY KEY, applied_at text NOT NULL)"]
                           + older.flatMap(\.statements) + ["INSERT INTO audit_chain (id) VALUES ('older-chain')"]
                           + older.map { "INSERT INTO retentiond_migration VALUES ('\($0.identifier)', '2026-01-01T00:00:00Z')" })
            .joined(separator: ";\n"))
        #expect(try database.psql("SELECT to_regclass('leader') IS NULL") == "t")
        let state = try await PostgresStateStore.open(url: database.url, passwordFile: database.passwordFile, creation: .refuse, daemonID: "a")
        #expect(!state.created && state.chainID == "older-chain")
        #expect(try database.psql("SELECT string_agg(identifier, ',' ORDER BY identifier) FROM retentiond_migration")
                == "v1,v2-kinds,v3-clock,v4-locks,v5-audit-key,v6-leases,v7-audit-writer")
        #expect(try await state.lead(rulesDigest: "d") == .leader(term: 1, elected: true))
        await state.close()
    }
}
