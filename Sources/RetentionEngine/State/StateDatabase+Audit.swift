import Foundation
import GRDB
import Crypto

/// A row of the `audit` table: an `AuditRecord`, whose coding keys are the columns. The table's
/// triggers refuse every update and delete; records are only ever inserted.
struct AuditRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "audit"
    var record: AuditRecord

    enum Columns {
        static let sequence = Column(AuditRecord.CodingKeys.sequence)
    }

    init(_ record: AuditRecord) {
        self.record = record
    }

    init(from decoder: any Decoder) throws {
        record = try AuditRecord(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
    }

    /// The last record of the chain, if any.
    static func last(in db: Database) throws -> AuditRecord? {
        try AuditRow.order(Columns.sequence.desc).fetchOne(db)?.record
    }
}

/// The audit chain: each ended job appends a record chained by hash to the one before, sealed
/// with the audit key when there is one (issue 12), and anchored outside the database.
extension StateDatabase {
    static let genesis = String(repeating: "0", count: 64)

    /// Appends the job's audit record, sealed with the audit key when there is one. Once the
    /// chain is keyed, an unkeyed record would read as a MAC stripped off: refused.
    func appendAudit(for job: Job, in db: Database) throws -> AuditRecord {
        let last = try AuditRow.last(in: db)
        if auditKey == nil, let last, last.mac != nil { throw unkeyedAppend(keyedFrom: last.sequence) }
        // From the row as saved: an unreadable job's record quotes what its row holds (its action
        // as written, say), not what this version put in its place.
        let (row, _) = try JobRow.saving(job)
        var record = AuditRecord(sequence: (last?.sequence ?? 0) + 1, job: job.id, rule: row.rule, store: row.store,
                                 dataset: row.dataset, stage: row.stage, action: row.action, outcome: row.state,
                                 cutoff: row.cutoff, count: row.doneCount, startedAt: row.startedAt ?? row.plannedAt,
                                 finishedAt: row.finishedAt ?? row.plannedAt, keysSHA256: job.keysDigest.hex,
                                 previousHash: last?.hash ?? Self.genesis, hash: "", note: row.note)
        record.hash = Self.hash(record)
        record.mac = auditKey?.mac(chain: chainID, hash: record.hash)
        try AuditRow(record).insert(db)
        return record
    }

    /// Whether the chain is keyed: the sequence of its last record when that carries a MAC.
    static func lastRecordIfKeyed(in db: Database) throws -> Int64? {
        try AuditRow.last(in: db).flatMap { $0.mac == nil ? nil : $0.sequence }
    }

    /// Refuses to go on when the chain is keyed and this instance has no key: a pass would act
    /// and then fail to record it. Called before anything is touched.
    package func checkAuditKey() throws(StateError) {
        guard auditKey == nil else { return }
        if let keyed = try read({ db in try Self.lastRecordIfKeyed(in: db) }) { throw unkeyedAppend(keyedFrom: keyed) }
    }

    func unkeyedAppend(keyedFrom sequence: Int64) -> StateError {
        StateError(path: path, message: "refusing to act: the audit chain is keyed (record \(sequence) carries a MAC) and no key was given, "
                   + "so this could not be audited: give the key the chain was written with (--hmac-key FILE, or the systemd "
                   + "credential '\(HMACKey.credentialName)'; the audit key is derived from it)")
    }

    /// The SHA-256 of the record's canonical text (`AuditRecord.canonicalText`), in hex.
    static func hash(_ record: AuditRecord) -> String {
        SHA256.hash(data: Data(record.canonicalText.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The audit chain, in order.
    package func auditRecords() throws(StateError) -> [AuditRecord] {
        try read { db in try AuditRow.order(AuditRow.Columns.sequence).fetchAll(db).map(\.record) }
    }

    /// The last record as a head to note outside the machine (`SEQUENCE:HASH`); nil for an empty chain.
    package func auditHead() throws(StateError) -> AuditAnchor? {
        try read { db in
            try AuditRow.last(in: db).map { record in
                AuditAnchor(sequence: record.sequence, hash: record.hash, mac: record.mac, chain: chainID, state: path, source: "head")
            }
        }
    }
}
