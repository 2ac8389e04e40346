public import Foundation
import GRDB
import Crypto
#if canImport(Glibc)
import Glibc
#endif
public import RetentionRules

/// The daemon's memory: jobs and their progress, holds, passes, locked rules and the audit chain,
/// in one SQLite file (default `/var/lib/retentiond/state.sqlite`).
///
/// Every change that the crash-safety argument relies on is one transaction here: a job row before
/// its first batch, a batch's keys before the store is touched, the batch's result after.
public final class StateDatabase: Sendable {
    /// Where the state database lives unless told otherwise (systemd's `StateDirectory=retentiond`).
    public static let defaultPath = "/var/lib/retentiond/state.sqlite"

    /// The state database to use: the one given, else `$RETENTIOND_STATE`, else `defaultPath`.
    public static func path(given: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        given ?? environment["RETENTIOND_STATE"] ?? defaultPath
    }

    let queue: DatabaseQueue
    /// The file, for messages.
    public let path: String
    /// The id of this database's audit chain: random, made once with the table that holds it.
    /// Journal anchors name it, so that the chains of several state databases never mix.
    public let chainID: String
    /// Seals every audit record appended; nil appends unkeyed records (refused once the chain is keyed).
    let auditKey: AuditKey?
    /// Told of every audit record once it is committed: the daemon writes it to the journal.
    let anchor: (@Sendable (AuditAnchor) -> Void)?

    /// Whether opening may create the file. A mistyped path must not silently become a new, empty
    /// state database in which every hold and locked rule is gone.
    public enum Creation: Sendable {
        /// The file must exist (commands that act on an existing state).
        case refuse
        /// Create it if missing (`--init`, or the daemon's first start in its `StateDirectory=`).
        case ifMissing
    }

    /// Whether this open created the file (so it has no history).
    public let created: Bool

    /// Opens the state database at `path` and brings its schema up to date. A new file is created
    /// only when `creation` allows it, and then readable by its owner alone (0600): it holds keys
    /// of people's records.
    /// - Parameters:
    ///   - auditKey: the key that seals audit records appended through this instance.
    ///   - anchor: called with each audit record's anchor after the record is committed, to keep
    ///     it outside the database (the journal).
    public init(path: String, creation: Creation = .refuse, auditKey: AuditKey? = nil,
                anchor: (@Sendable (AuditAnchor) -> Void)? = nil) throws(StateError) {
        self.path = path
        self.auditKey = auditKey
        self.anchor = anchor
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            created = try Self.prepareFile(at: path, creation: creation)
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try Self.migrator.migrate(queue)
            chainID = try queue.read { db in try String.fetchOne(db, sql: "SELECT id FROM audit_chain") } ?? ""
        } catch let error as StateError {
            throw error
        } catch {
            throw StateError(path: path, message: "\(error)")
        }
    }

    /// Checks the file is there (or creates it empty, 0600, when allowed); returns whether it was created.
    /// SQLite gives its `-wal` and `-shm` files the database file's permissions.
    private static func prepareFile(at path: String, creation: Creation) throws(StateError) -> Bool {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            throw StateError(path: path, message: "the directory \(directory) does not exist (systemd creates it with StateDirectory=retentiond)")
        }
        var status = stat()
        if lstat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFREG else {
                throw StateError(path: path, message: "expected a state database file, found something else (a directory, a link or a device)")
            }
            return false
        }
        guard creation == .ifMissing else {
            throw StateError(path: path, message: "no state database here. Holds, approvals, locked rules and the audit trail live "
                             + "in the state database, so a mistyped --state would act without them: check the path (the default is "
                             + "\(defaultPath), or $RETENTIOND_STATE); to start a new one, run retentionctl run (or hold add, or retentiond) with --init")
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StateError(path: path, message: "cannot create the state database: \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        return true
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
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
            try db.create(table: "pass") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("started_at", .text).notNull()
                t.column("finished_at", .text)
                t.column("result", .text)
            }
            try db.create(table: "locked_rule") { t in
                t.column("rule", .text).primaryKey()
                t.column("anchor", .text).notNull()
                t.column("stages", .text).notNull()
                t.column("retention", .text).notNull()
                t.column("recorded_at", .text).notNull()
            }
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
        // Issue 12: the audit chain gets a key and an identity. `mac` seals each record's hash
        // (AuditKey); `audit_chain` holds the chain's random id, which the MAC covers and the
        // journal's anchors name. Records before this migration stay unkeyed.
        migrator.registerMigration("v5-audit-key") { db in
            try db.alter(table: "audit") { t in t.add(column: "mac", .text) }
            try db.create(table: "audit_chain") { t in t.column("id", .text).notNull() }
            try db.execute(sql: "INSERT INTO audit_chain (id) VALUES (?)", arguments: [UUID().uuidString.lowercased()])
            try db.execute(sql: """
                CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain BEGIN SELECT RAISE(ABORT, 'the audit chain id is fixed'); END;
                CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain BEGIN SELECT RAISE(ABORT, 'the audit chain id is fixed'); END;
                """)
        }
        return migrator
    }

    func write<T>(_ body: (Database) throws -> T) throws(StateError) -> T {
        do { return try queue.write(body) } catch let error as StateError { throw error } catch {
            throw StateError(path: path, message: "\(error)")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StateError) -> T {
        do { return try queue.read(body) } catch let error as StateError { throw error } catch {
            throw StateError(path: path, message: "\(error)")
        }
    }
}

/// The state database could not be opened, read or written.
public struct StateError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

// MARK: - Passes and the clock

extension StateDatabase {
    /// Whether anything ever happened here: a pass, a job, a hold, a locked rule. A state database
    /// without history is new (or the wrong file): commands say so rather than show an empty past.
    public func hasHistory() throws(StateError) -> Bool {
        try read { db in
            try ["pass", "job", "hold", "locked_rule", "audit"].contains { table in
                try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table))") ?? false
            }
        }
    }

    /// The clock of the latest pass that acted, if any.
    public func lastPassClock() throws(StateError) -> Date? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT max(started_at) FROM pass").flatMap(TimeText.parseISO)
        }
    }

    /// Records the start of a pass at `now`; refuses when the clock is earlier than the last pass's.
    public func beginPass(at now: Date, maximumGap: TimeInterval? = nil) throws(StateError) -> Int64 {
        try write { db in
            let last = try String.fetchOne(db, sql: "SELECT max(started_at) FROM pass WHERE voided_at IS NULL").flatMap(TimeText.parseISO)
            if let last, now < last {
                throw StateError(path: path, message: "refusing to act: the clock reads \(TimeText.iso(now)), earlier than the last pass at "
                                 + "\(TimeText.iso(last)); a clock running backwards would make records look due or not due wrongly. "
                                 + "Fix the system clock (timedatectl), then run again; if the clock is right now and the last pass ran "
                                 + "under a wrong one, say so with 'retentionctl clock accept'")
            }
            // A clock that jumped far ahead makes records due that are not: refuse until a person says it is right.
            if let last, let maximumGap, now.timeIntervalSince(last) > maximumGap {
                let days = Int(now.timeIntervalSince(last) / 86_400)
                throw StateError(path: path, message: "refusing to act: the clock reads \(TimeText.iso(now)), \(days) days after the last pass at "
                                 + "\(TimeText.iso(last)), more than a plausible gap of \(Int(maximumGap / 86_400)) days; a clock set ahead would "
                                 + "delete records that are not due. If the clock is right (the host was off that long), say so with "
                                 + "'retentionctl clock accept', then run again; otherwise fix the clock (timedatectl)")
            }
            try db.execute(sql: "INSERT INTO pass (started_at) VALUES (?)", arguments: [TimeText.iso(now)])
            return db.lastInsertedRowID
        }
    }

    /// A person's word that the clock reads right at `now`: passes recorded later than `now` (under
    /// a clock that ran ahead) no longer count for the clock checks, and `now` is the new last pass.
    /// Returns how many passes were set aside.
    public func acceptClock(at now: Date, by who: String) throws(StateError) -> Int {
        try write { db in
            let stamp = TimeText.iso(now)
            try db.execute(sql: "UPDATE pass SET voided_at = ?, voided_by = ? WHERE started_at > ? AND voided_at IS NULL",
                           arguments: [stamp, who, stamp])
            let voided = db.changesCount
            try db.execute(sql: "INSERT INTO pass (started_at, finished_at, result) VALUES (?, ?, ?)",
                           arguments: [stamp, stamp, "clock accepted by \(who)" + (voided > 0 ? "; \(voided) later passes set aside" : "")])
            return voided
        }
    }

    /// When a person last accepted the clock (`acceptClock`), if ever.
    public func lastClockAcceptance() throws(StateError) -> Date? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT max(started_at) FROM pass WHERE result LIKE 'clock accepted by %'").flatMap(TimeText.parseISO)
        }
    }

    /// Records how a pass ended.
    public func finishPass(_ id: Int64, at now: Date, result: String) throws(StateError) {
        try write { db in
            try db.execute(sql: "UPDATE pass SET finished_at = ?, result = ? WHERE id = ?", arguments: [TimeText.iso(now), result, id])
        }
    }
}

// MARK: - Jobs

extension StateDatabase {
    /// Writes a new job and returns it with its id.
    public func insert(_ job: Job) throws(StateError) -> Job {
        try write { db in
            var job = job
            try db.execute(sql: """
                INSERT INTO job (store, dataset, rule, stage, action, violation, cutoff, predicate, state, reason, planned_at,
                                 not_before, planned_count, dataset_total, done_count, last_key, keys_digest, note)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [job.store, job.dataset, job.rule, job.stage, job.action.rawValue, job.isViolation,
                                 TimeText.iso(job.cutoff), try Self.json(job.predicate), job.state.rawValue, job.reason,
                                 TimeText.iso(job.plannedAt), TimeText.iso(job.notBefore), job.plannedCount, job.datasetTotal,
                                 job.doneCount, try job.lastKey.map(Self.json), job.keysDigest.stateText, job.note])
            job.id = db.lastInsertedRowID
            return job
        }
    }

    /// Saves a job's mutable fields.
    public func update(_ job: Job) throws(StateError) {
        try write { db in try Self.update(job, in: db) }
    }

    static func update(_ job: Job, in db: Database) throws {
        try db.execute(sql: """
            UPDATE job SET state = ?, reason = ?, not_before = ?, done_count = ?, last_key = ?, keys_digest = ?,
                           started_at = ?, finished_at = ?, decided_by = ?, predicate = ?, planned_count = ?
            WHERE id = ?
            """, arguments: [job.state.rawValue, job.reason, TimeText.iso(job.notBefore), job.doneCount,
                             try job.lastKey.map(Self.json), job.keysDigest.stateText, job.startedAt.map(TimeText.iso),
                             job.finishedAt.map(TimeText.iso), job.decidedBy, try Self.json(job.predicate), job.plannedCount, job.id])
    }

    /// One job by id.
    public func job(_ id: Int64) throws(StateError) -> Job? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM job WHERE id = ?", arguments: [id]).map(Self.job) }
    }

    /// Jobs in the given states (all when empty), oldest first.
    public func jobs(in states: [Job.State] = []) throws(StateError) -> [Job] {
        try read { db in
            if states.isEmpty { return try Row.fetchAll(db, sql: "SELECT * FROM job ORDER BY id").map(Self.job) }
            let marks = states.map { _ in "?" }.joined(separator: ", ")
            return try Row.fetchAll(db, sql: "SELECT * FROM job WHERE state IN (\(marks)) ORDER BY id",
                                    arguments: StatementArguments(states.map(\.rawValue))).map(Self.job)
        }
    }

    static func job(_ row: Row) throws -> Job {
        func date(_ column: String) throws -> Date {
            let text: String = row[column]
            guard let date = TimeText.parseISO(text) else { throw StateError(path: "", message: "job \(row["id"] as Int64): bad \(column) '\(text)'") }
            return date
        }
        let lastKey: String? = row["last_key"]
        let digest: String = row["keys_digest"]
        // An action or state this version does not know is never guessed (an unknown action once
        // became `delete`): the job is read as failed, and the engine records why.
        let actionText: String = row["action"], stateText: String = row["state"]
        let action = Action(rawValue: actionText), jobState = Job.State(rawValue: stateText)
        var unreadable: String?
        if action == nil { unreadable = "the state database holds an action this retentiond does not know: '\(actionText)'" }
        if jobState == nil { unreadable = "the state database holds a job state this retentiond does not know: '\(stateText)'" }
        var job = Job(id: row["id"], store: row["store"], dataset: row["dataset"], rule: row["rule"], stage: row["stage"],
                   action: action ?? .restrict, isViolation: row["violation"],
                   cutoff: try date("cutoff"), predicate: try JSONDecoder().decode(RecordPredicate.self, from: Data((row["predicate"] as String).utf8)),
                   state: jobState ?? .failed, reason: row["reason"],
                   plannedAt: try date("planned_at"), notBefore: try date("not_before"), plannedCount: row["planned_count"],
                   datasetTotal: row["dataset_total"], doneCount: row["done_count"],
                   lastKey: try lastKey.map { try JSONDecoder().decode(RecordKey.self, from: Data($0.utf8)) },
                   keysDigest: KeyDigest(stateText: digest) ?? KeyDigest(),
                   startedAt: (row["started_at"] as String?).flatMap(TimeText.parseISO),
                   finishedAt: (row["finished_at"] as String?).flatMap(TimeText.parseISO), decidedBy: row["decided_by"],
                   note: row["note"])
        job.unreadable = unreadable
        job.unknownAction = action == nil ? actionText : nil
        return job
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    // MARK: Batches

    /// Records the keys of the batch about to be applied, before the store is touched.
    public func beginBatch(of job: Int64, keys: [RecordKey]) throws(StateError) {
        try write { db in
            // As runs: a batch of consecutive ids is two numbers, not a list of thousands.
            try db.execute(sql: "INSERT OR REPLACE INTO batch (job, keys) VALUES (?, ?)", arguments: [job, try Self.json(KeyRuns(keys))])
        }
    }

    /// The keys of a batch that was begun and not finished: a crash happened while it was applied.
    public func pendingBatch(of job: Int64) throws(StateError) -> [RecordKey]? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT keys FROM batch WHERE job = ?", arguments: [job]).map { text in
                let data = Data(text.utf8)
                // A plain list: written by a version before KeyRuns.
                if let keys = try? JSONDecoder().decode([RecordKey].self, from: data) { return keys }
                return try JSONDecoder().decode(KeyRuns.self, from: data).keys
            }
        }
    }

    /// Saves the job's progress and forgets the batch's keys, in one transaction.
    public func finishBatch(of job: Job) throws(StateError) {
        try write { db in
            try Self.update(job, in: db)
            try db.execute(sql: "DELETE FROM batch WHERE job = ?", arguments: [job.id])
        }
    }

    /// Ends a job (done, failed or cancelled) and appends its audit record, in one transaction;
    /// then hands the record's anchor to `anchor` (after the commit: an anchor must never name a
    /// record that was rolled back).
    @discardableResult
    public func finish(_ job: Job) throws(StateError) -> AuditRecord {
        let record = try write { db in
            try Self.update(job, in: db)
            try db.execute(sql: "DELETE FROM batch WHERE job = ?", arguments: [job.id])
            return try appendAudit(for: job, in: db)
        }
        anchor?(AuditAnchor(record, chain: chainID, state: path))
        return record
    }
}

// MARK: - Holds

extension StateDatabase {
    /// Places a hold.
    public func addHold(_ scope: Hold.Scope, reason: String, by who: String, at now: Date) throws(StateError) -> Hold {
        try write { db in
            let (dataset, key): (String?, RecordKey?) = switch scope {
            case .store: (nil, nil)
            case .dataset(_, let dataset): (dataset, nil)
            case .record(_, let dataset, let key): (dataset, key)
            }
            try db.execute(sql: "INSERT INTO hold (store, dataset, key, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [scope.store, dataset, try key.map(Self.json), reason, who, TimeText.iso(now)])
            return Hold(id: db.lastInsertedRowID, scope: scope, reason: reason, createdBy: who, createdAt: now)
        }
    }

    /// Releases a hold; the row stays, for the record.
    public func releaseHold(_ id: Int64, by who: String, at now: Date) throws(StateError) -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE hold SET released_at = ?, released_by = ? WHERE id = ? AND released_at IS NULL",
                           arguments: [TimeText.iso(now), who, id])
            return db.changesCount == 1
        }
    }

    /// Holds in force (and released ones too, when asked).
    public func holds(includingReleased: Bool = false) throws(StateError) -> [Hold] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM hold \(includingReleased ? "" : "WHERE released_at IS NULL") ORDER BY id").map { row in
                let store: String = row["store"]
                let dataset: String? = row["dataset"]
                let keyText: String? = row["key"]
                let scope: Hold.Scope
                if let dataset, let keyText {
                    scope = .record(store: store, dataset: dataset, key: try JSONDecoder().decode(RecordKey.self, from: Data(keyText.utf8)))
                } else if let dataset {
                    scope = .dataset(store: store, dataset: dataset)
                } else {
                    scope = .store(store)
                }
                return Hold(id: row["id"], scope: scope, reason: row["reason"], createdBy: row["created_by"],
                            createdAt: TimeText.parseISO(row["created_at"]) ?? .distantPast,
                            releasedAt: (row["released_at"] as String?).flatMap(TimeText.parseISO), releasedBy: row["released_by"])
            }
        }
    }
}

// MARK: - Locked rules

extension StateDatabase {
    /// The locked rules remembered so far.
    public func lockedRules() throws(StateError) -> [LockedRule] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM locked_rule ORDER BY rule").map { row in
                LockedRule(rule: row["rule"], anchor: try JSONDecoder().decode([String].self, from: Data((row["anchor"] as String).utf8)),
                           stages: try JSONDecoder().decode([Stage].self, from: Data((row["stages"] as String).utf8)),
                           retention: row["retention"], kind: Kind(rawValue: row["kind"]) ?? .purpose,
                           recordedAt: TimeText.parseISO(row["recorded_at"]) ?? .distantPast,
                           form: try (row["form"] as String?).map { try JSONDecoder().decode(LockedRule.Form.self, from: Data($0.utf8)) })
            }
        }
    }

    /// Remembers the current form of every locked rule (after `RuleLocks.violations` found none).
    /// Bindings accumulate: a dataset a locked rule was ever bound to stays remembered.
    public func remember(locked rules: [Rule], in stores: StoreSet, at now: Date) throws(StateError) {
        let known = Dictionary(try lockedRules().map { ($0.rule, $0) }, uniquingKeysWith: { first, _ in first })
        try write { db in
            for rule in rules where rule.lock {
                let retention = switch rule.retention { case .forever: "forever"; case .never: "none"; case .stages: "stages" }
                var form = LockedRule.form(of: rule, in: stores)
                for old in known[rule.id]?.form?.bindings ?? [] where !form.bindings.contains(where: { $0.store == old.store && $0.dataset == old.dataset }) {
                    form.bindings.append(old)
                }
                form.bindings.sort { ($0.store, $0.dataset) < ($1.store, $1.dataset) }
                try db.execute(sql: """
                    INSERT OR REPLACE INTO locked_rule (rule, anchor, stages, retention, kind, recorded_at, form) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [rule.id, try Self.json(rule.anchor?.fields ?? []), try Self.json(rule.retention.stages),
                                     retention, rule.kind.rawValue, TimeText.iso(now), try Self.json(form)])
            }
        }
    }
}
