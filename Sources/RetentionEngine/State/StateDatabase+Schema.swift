import Foundation
import GRDB

/// The state database's tables, as a sequence of migrations. A migration that has shipped is never
/// edited: existing state databases were built by it, and the migrator knows them by identifier.
/// Changes go into a new migration at the end.
extension StateDatabase {
    /// Brings the schema of the database behind `writer` up to date.
    static func migrate(_ writer: some DatabaseWriter) throws {
        try migrator.migrate(writer)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try createJobTables(db)
            try createHoldTable(db)
            try createPassTable(db)
            try createLockedRuleTable(db)
            try createAuditTable(db)
        }
        // Kinds of rule (issue 11): a job's note (a deferred erasure's restriction says which
        // obligation defers it until when), kept in its audit record; a locked rule's kind.
        migrator.registerMigration("v2-kinds") { db in
            try db.alter(table: "job") { t in t.add(column: "note", .text) }
            try db.alter(table: "audit") { t in t.add(column: "note", .text) }
            try db.alter(table: "locked_rule") { t in t.add(column: "kind", .text).notNull().defaults(to: "purpose") }
        }
        // `retentionctl clock accept`: passes recorded under a clock that ran ahead are set aside.
        migrator.registerMigration("v3-clock") { db in
            try db.alter(table: "pass") { t in
                t.add(column: "voided_at", .text)
                t.add(column: "voided_by", .text)
            }
        }
        migrator.registerMigration("v4-locks") { db in
            // The rest of a locked rule's form (zone, alignment, `when:`, bindings) as JSON.
            try db.alter(table: "locked_rule") { t in t.add(column: "form", .text) }
        }
        migrator.registerMigration("v5-audit-key", migrate: keyAuditChain)
        // v6-leases and v7-audit-writer are PostgreSQL's alone: a SQLite state has one daemon, so
        // no leases, and its audit records carry no term or daemon (`AuditRecord` writes neither
        // column when it has no value, and reads a missing column as none).
        return migrator
    }

    // MARK: v1

    private static func createJobTables(_ db: Database) throws {
        try db.create(table: "job") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("store", .text).notNull()
            t.column("dataset", .text).notNull()
            t.column("rule", .text).notNull()
            t.column("stage", .integer).notNull()
            t.column("action", .text).notNull()
            t.column("violation", .boolean).notNull()
            t.column("cutoff", .text).notNull()
            t.column("predicate", .text).notNull()
            t.column("state", .text).notNull().indexed()
            t.column("reason", .text)
            t.column("planned_at", .text).notNull()
            t.column("not_before", .text).notNull()
            t.column("planned_count", .integer).notNull()
            t.column("dataset_total", .integer)
            t.column("done_count", .integer).notNull()
            t.column("last_key", .text)
            t.column("keys_digest", .text).notNull()
            t.column("started_at", .text)
            t.column("finished_at", .text)
            t.column("decided_by", .text)
        }
        // The keys of the batch in flight: written before the store is touched, removed with
        // the batch's result. What is here after a crash tells the restart what to check.
        try db.create(table: "batch") { t in
            t.column("job", .integer).primaryKey().references("job")
            t.column("keys", .text).notNull()
        }
    }

    private static func createHoldTable(_ db: Database) throws {
        try db.create(table: "hold") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("store", .text).notNull()
            t.column("dataset", .text)
            t.column("key", .text)
            t.column("reason", .text).notNull()
            t.column("created_by", .text).notNull()
            t.column("created_at", .text).notNull()
            t.column("released_at", .text)
            t.column("released_by", .text)
        }
    }

    private static func createPassTable(_ db: Database) throws {
        try db.create(table: "pass") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("started_at", .text).notNull()
            t.column("finished_at", .text)
            t.column("result", .text)
        }
    }

    private static func createLockedRuleTable(_ db: Database) throws {
        try db.create(table: "locked_rule") { t in
            t.column("rule", .text).primaryKey()
            t.column("anchor", .text).notNull()
            t.column("stages", .text).notNull()
            t.column("retention", .text).notNull()
            t.column("recorded_at", .text).notNull()
        }
    }

    private static func createAuditTable(_ db: Database) throws {
        try db.create(table: "audit") { t in
            t.column("sequence", .integer).primaryKey()
            t.column("job", .integer).notNull()
            t.column("rule", .text).notNull()
            t.column("store", .text).notNull()
            t.column("dataset", .text).notNull()
            t.column("stage", .integer).notNull()
            t.column("action", .text).notNull()
            t.column("outcome", .text).notNull()
            t.column("cutoff", .text).notNull()
            t.column("count", .integer).notNull()
            t.column("started_at", .text).notNull()
            t.column("finished_at", .text).notNull()
            t.column("keys_sha256", .text).notNull()
            t.column("previous_hash", .text).notNull()
            t.column("hash", .text).notNull()
        }
        // Append-only by construction: the database refuses to change or delete audit rows.
        // Someone with the file can still drop the triggers; `audit verify` catches that.
        try db.execute(sql: """
            CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
            CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
            """)
    }

    // MARK: v5-audit-key

    /// Issue 12: the audit chain gets a key and an identity. `mac` seals each record's hash
    /// (AuditKey); `audit_chain` holds the chain's random id, which the MAC covers and the
    /// journal's anchors name. Records before this migration stay unkeyed.
    private static func keyAuditChain(_ db: Database) throws {
        try db.alter(table: "audit") { t in t.add(column: "mac", .text) }
        try db.create(table: "audit_chain") { t in t.column("id", .text).notNull() }
        try db.execute(sql: "INSERT INTO audit_chain (id) VALUES (?)", arguments: [UUID().uuidString.lowercased()])
        try db.execute(sql: """
            CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain BEGIN SELECT RAISE(ABORT, 'the audit chain id is fixed'); END;
            CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain BEGIN SELECT RAISE(ABORT, 'the audit chain id is fixed'); END;
            """)
    }
}
