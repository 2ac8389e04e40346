import Foundation
import GRDB

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

    /// The columns of a SQLite state's audit table. `term` and `daemon` are a shared state's
    /// (PostgreSQL, `v7-audit-writer`): a SQLite record has neither, and the table no such column.
    func encode(to container: inout PersistenceContainer) throws {
        typealias Key = AuditRecord.CodingKeys
        let r = record
        guard r.term == nil, r.daemon == nil else {
            throw StateError(path: "audit", message: "a SQLite state's audit record carries no term or daemon (record \(r.sequence))")
        }
        let values: [(Key, (any DatabaseValueConvertible)?)] = [
            (.sequence, r.sequence), (.job, r.job), (.rule, r.rule), (.store, r.store), (.dataset, r.dataset), (.stage, r.stage),
            (.action, r.action), (.outcome, r.outcome), (.cutoff, r.cutoff), (.count, r.count), (.startedAt, r.startedAt),
            (.finishedAt, r.finishedAt), (.keysSHA256, r.keysSHA256), (.previousHash, r.previousHash), (.hash, r.hash),
            (.note, r.note), (.mac, r.mac),
        ]
        for (key, value) in values { container[key.rawValue] = value }
    }

    /// The last record of the chain, if any.
    static func last(in db: Database) throws -> AuditRecord? {
        try AuditRow.order(Columns.sequence.desc).fetchOne(db)?.record
    }
}

/// The audit chain: each ended job appends a record chained by hash to the one before, sealed
/// with the audit key when there is one (issue 12), and anchored outside the database.
extension StateDatabase {
    /// Appends the job's audit record (`AuditChain.record`) after the chain's last.
    func appendAudit(for job: Job, in db: Database) throws -> AuditRecord {
        let record = try AuditChain.record(for: job, after: try AuditRow.last(in: db), chain: chainID, key: auditKey, location: path)
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
        if let keyed = try read({ db in try Self.lastRecordIfKeyed(in: db) }) {
            throw AuditChain.unkeyedAppend(keyedFrom: keyed, location: path)
        }
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
