/// What `retentionctl audit verify` found wrong with the audit chain.
public struct AuditProblem: Sendable, Hashable, CustomStringConvertible {
    /// The sequence number of the record where the chain breaks.
    public var sequence: Int64
    public var message: String

    public var description: String { "audit record \(sequence): \(message)" }
}

extension AuditRecord {
    /// Checks a chain read in sequence order: every record's hash matches its fields (nothing
    /// altered), each links to the one before (nothing inserted or reordered), sequence numbers
    /// have no gaps (nothing removed), and every finished job has its record (the tail was not cut).
    public static func verify(_ records: [AuditRecord], finishedJobs: [Int64] = []) -> [AuditProblem] {
        var problems: [AuditProblem] = []
        var previousHash = StateDatabase.genesis
        var expected: Int64 = 1
        for record in records {
            if record.sequence != expected {
                problems.append(AuditProblem(sequence: record.sequence,
                                             message: "expected sequence \(expected): \(record.sequence > expected ? "records before it were removed" : "a record was inserted or duplicated")"))
            }
            if record.previousHash != previousHash {
                problems.append(AuditProblem(sequence: record.sequence,
                                             message: "does not link to the record before it (previous_hash \(record.previousHash.prefix(12))…, expected \(previousHash.prefix(12))…): a record was inserted, removed or reordered"))
            }
            if StateDatabase.hash(record) != record.hash {
                problems.append(AuditProblem(sequence: record.sequence,
                                             message: "its fields do not match its hash: the record was altered (job \(record.job), rule \(record.rule))"))
            }
            previousHash = record.hash
            expected = record.sequence + 1
        }
        let recorded = Set(records.map(\.job))
        for job in finishedJobs where !recorded.contains(job) {
            problems.append(AuditProblem(sequence: expected, message: "finished job \(job) has no audit record: records were removed"))
        }
        return problems
    }
}

extension StateDatabase {
    /// Verifies the chain in the database against itself and against the jobs table.
    public func verifyAudit() throws(StateError) -> (records: Int, problems: [AuditProblem]) {
        let records = try auditRecords()
        let finished = try jobs(in: [.done, .failed, .cancelled]).filter { $0.finishedAt != nil }.map(\.id)
        return (records.count, AuditRecord.verify(records, finishedJobs: finished))
    }
}
