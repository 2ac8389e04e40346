import Foundation
import GRDB
import Crypto
import RetentionRules

// MARK: - Audit

extension StateDatabase {
    static let genesis = String(repeating: "0", count: 64)

    /// Appends the job's audit record, sealed with the audit key when there is one. Once the
    /// chain is keyed, an unkeyed record would read as a MAC stripped off: refused.
    func appendAudit(for job: Job, in db: Database) throws -> AuditRecord {
        let last = try Row.fetchOne(db, sql: "SELECT sequence, hash, mac FROM audit ORDER BY sequence DESC LIMIT 1")
        if auditKey == nil, let keyed = try Self.lastRecordIfKeyed(in: db) { throw unkeyedAppend(keyedFrom: keyed) }
        var record = AuditRecord(sequence: (last?["sequence"] as Int64? ?? 0) + 1, job: job.id, rule: job.rule, store: job.store,
                                 dataset: job.dataset, stage: job.stage, action: job.unknownAction ?? job.action.rawValue, outcome: job.state.rawValue,
                                 cutoff: TimeText.iso(job.cutoff), count: job.doneCount,
                                 startedAt: TimeText.iso(job.startedAt ?? job.plannedAt), finishedAt: TimeText.iso(job.finishedAt ?? job.plannedAt),
                                 keysSHA256: job.keysDigest.hex, previousHash: last?["hash"] ?? Self.genesis, hash: "", note: job.note)
        record.hash = Self.hash(record)
        record.mac = auditKey?.mac(chain: chainID, hash: record.hash)
        try db.execute(sql: """
            INSERT INTO audit (sequence, job, rule, store, dataset, stage, action, outcome, cutoff, count, started_at, finished_at,
                               keys_sha256, previous_hash, hash, note, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [record.sequence, record.job, record.rule, record.store, record.dataset, record.stage, record.action,
                             record.outcome, record.cutoff, record.count, record.startedAt, record.finishedAt, record.keysSHA256,
                             record.previousHash, record.hash, record.note, record.mac])
        return record
    }

    /// Whether the chain is keyed: the sequence of its last record when that carries a MAC.
    static func lastRecordIfKeyed(in db: Database) throws -> Int64? {
        try Row.fetchOne(db, sql: "SELECT sequence, mac FROM audit ORDER BY sequence DESC LIMIT 1")
            .flatMap { row in (row["mac"] as String?) == nil ? nil : row["sequence"] as Int64 }
    }

    /// Refuses to go on when the chain is keyed and this instance has no key: a pass would act
    /// and then fail to record it. Called before anything is touched.
    public func checkAuditKey() throws(StateError) {
        guard auditKey == nil else { return }
        if let keyed = try read({ db in try Self.lastRecordIfKeyed(in: db) }) { throw unkeyedAppend(keyedFrom: keyed) }
    }

    func unkeyedAppend(keyedFrom sequence: Int64) -> StateError {
        StateError(path: path, message: "refusing to act: the audit chain is keyed (record \(sequence) carries a MAC) and no key was given, "
                   + "so this could not be audited: give the key the chain was written with (--hmac-key FILE, or the systemd "
                   + "credential '\(HMACKey.credentialName)'; the audit key is derived from it)")
    }

    static func hash(_ record: AuditRecord) -> String {
        SHA256.hash(data: Data(record.canonicalText.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The audit chain, in order.
    public func auditRecords() throws(StateError) -> [AuditRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY sequence").map { row in
                AuditRecord(sequence: row["sequence"], job: row["job"], rule: row["rule"], store: row["store"], dataset: row["dataset"],
                            stage: row["stage"], action: row["action"], outcome: row["outcome"], cutoff: row["cutoff"], count: row["count"],
                            startedAt: row["started_at"], finishedAt: row["finished_at"], keysSHA256: row["keys_sha256"],
                            previousHash: row["previous_hash"], hash: row["hash"], note: row["note"], mac: row["mac"])
            }
        }
    }

    /// The last record as a head to note outside the machine (`SEQUENCE:HASH`); nil for an empty chain.
    public func auditHead() throws(StateError) -> AuditAnchor? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT sequence, hash, mac FROM audit ORDER BY sequence DESC LIMIT 1").map { row in
                AuditAnchor(sequence: row["sequence"], hash: row["hash"], mac: row["mac"], chain: chainID, state: path, source: "head")
            }
        }
    }
}
