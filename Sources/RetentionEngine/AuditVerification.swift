/// What `retentionctl audit verify` found wrong with the audit chain.
package struct AuditProblem: Sendable, Hashable, CustomStringConvertible {
    /// The sequence number of the record where the chain breaks.
    package var sequence: Int64
    package var message: String

    package var description: String { "audit record \(sequence): \(message)" }
}

/// What a verification found, and what the chain was checked against: itself, the key, anchors.
package struct AuditReport: Sendable {
    package var records: Int
    package var problems: [AuditProblem] = []
    /// The last record, as a head to keep outside the machine.
    package var head: AuditAnchor?
    /// The first record carrying a MAC; every later one must carry one too. nil: none does.
    package var keyedFrom: Int64?
    /// Whether the MACs were checked (a key was given).
    package var macsChecked = false
    /// How many anchors of this chain were compared, and the highest sequence they confirmed.
    package var anchorsCompared = 0
    package var anchoredThrough: Int64?
    /// Records with a MAC that nothing checked: no key, and no anchor at or after them.
    package var uncheckedMACs: ClosedRange<Int64>?
    /// Records from before keying that no anchor covers: a rewrite of them with recomputed hashes
    /// cannot be told from the original.
    package var unkeyedUnanchored: ClosedRange<Int64>?
}

extension AuditRecord {
    /// Checks a chain read in sequence order: every record's hash matches its fields (nothing
    /// altered), each links to the one before (nothing inserted or reordered), sequence numbers
    /// have no gaps (nothing removed), and every finished job has its record (the tail was not cut).
    package static func verify(_ records: [AuditRecord], finishedJobs: [Int64] = []) -> [AuditProblem] {
        verify(records, chain: "", key: nil, anchors: [], finishedJobs: finishedJobs).problems
    }

    /// Checks the chain against itself as above, then against what a rewrite of the file cannot
    /// reach:
    /// - with `key`, every MAC: a record rewritten with its hash recomputed, or the chain's id
    ///   changed, no longer matches; a record without a MAC after a keyed one was written without
    ///   the key or stripped of its MAC;
    /// - every anchor of this `chain` (the journal's, a noted head): its record must be there with
    ///   the same hash (and MAC), so a rewritten record and a cut-off tail show.
    package static func verify(_ records: [AuditRecord], chain: String, key: AuditKey?, anchors: [AuditAnchor],
                              finishedJobs: [Int64] = []) -> AuditReport {
        var report = AuditReport(records: records.count)
        var previousHash = AuditChain.genesis
        var expected: Int64 = 1
        for record in records {
            if record.sequence != expected {
                report.problems.append(AuditProblem(sequence: record.sequence,
                                                    message: "expected sequence \(expected): \(record.sequence > expected ? "records before it were removed" : "a record was inserted or duplicated")"))
            }
            if record.previousHash != previousHash {
                report.problems.append(AuditProblem(sequence: record.sequence,
                                                    message: "does not link to the record before it (previous_hash \(record.previousHash.prefix(12))…, expected \(previousHash.prefix(12))…): a record was inserted, removed or reordered"))
            }
            if AuditChain.hash(record) != record.hash {
                report.problems.append(AuditProblem(sequence: record.sequence,
                                                    message: "its fields do not match its hash: the record was altered (job \(record.job), rule \(record.rule))"))
            }
            if let mac = record.mac {
                if report.keyedFrom == nil { report.keyedFrom = record.sequence }
                if let key, key.mac(chain: chain, hash: record.hash) != mac {
                    report.problems.append(AuditProblem(sequence: record.sequence,
                                                        message: "its MAC does not match under the audit key: the record was rewritten and its hash recomputed without the key, the chain's id was changed, or the key is not the one the chain was written with"))
                }
            } else if let keyedFrom = report.keyedFrom {
                report.problems.append(AuditProblem(sequence: record.sequence,
                                                    message: "has no MAC, but the chain is keyed from record \(keyedFrom): it was appended without the audit key, or its MAC was removed"))
            }
            previousHash = record.hash
            expected = record.sequence + 1
        }
        let recorded = Set(records.map(\.job))
        for job in finishedJobs where !recorded.contains(job) {
            report.problems.append(AuditProblem(sequence: expected, message: "finished job \(job) has no audit record: records were removed"))
        }
        report.head = records.last.map { AuditAnchor(sequence: $0.sequence, hash: $0.hash, mac: $0.mac, chain: chain, source: "head") }
        compare(records, with: anchors.filter { $0.chain == nil || $0.chain == chain }, into: &report)
        report.macsChecked = key != nil
        if let last = records.last?.sequence {
            let covered = report.anchoredThrough ?? 0
            if key == nil, let keyedFrom = report.keyedFrom, max(keyedFrom, covered + 1) <= last {
                report.uncheckedMACs = max(keyedFrom, covered + 1)...last
            }
            let unkeyedEnd = (report.keyedFrom ?? last + 1) - 1
            if covered + 1 <= unkeyedEnd { report.unkeyedUnanchored = (covered + 1)...unkeyedEnd }
        }
        return report
    }

    /// Compares the records with anchors of their chain: an anchor past the end says the tail was
    /// cut; one whose record differs says the record, or one before it, was rewritten.
    static func compare(_ records: [AuditRecord], with anchors: [AuditAnchor], into report: inout AuditReport) {
        let bySequence = Dictionary(records.map { ($0.sequence, $0) }, uniquingKeysWith: { first, _ in first })
        let last = records.last?.sequence ?? 0
        var beyond: AuditAnchor?
        for anchor in anchors.sorted(by: { $0.sequence < $1.sequence }) {
            report.anchorsCompared += 1
            guard let record = bySequence[anchor.sequence] else {
                if anchor.sequence > last {
                    if beyond.map({ anchor.sequence > $0.sequence }) ?? true { beyond = anchor }
                } else {
                    report.problems.append(AuditProblem(sequence: anchor.sequence,
                                                        message: "the \(anchor.source) anchors it (hash \(anchor.hash.prefix(12))…), but the database has no such record: it was removed"))
                }
                continue
            }
            if record.hash != anchor.hash {
                report.problems.append(AuditProblem(sequence: anchor.sequence,
                                                    message: "its hash \(record.hash.prefix(12))… differs from the \(anchor.source)'s anchor \(anchor.hash.prefix(12))…: this record or one before it was rewritten"))
            } else if let mac = anchor.mac, record.mac != mac {
                report.problems.append(AuditProblem(sequence: anchor.sequence,
                                                    message: "its MAC \(record.mac.map { String($0.prefix(12)) + "…" } ?? "(none)") differs from the \(anchor.source)'s anchor \(mac.prefix(12))…: the MAC was removed or replaced"))
            } else {
                report.anchoredThrough = max(report.anchoredThrough ?? 0, anchor.sequence)
            }
        }
        if let beyond {
            report.problems.append(AuditProblem(sequence: last + 1,
                                                message: "the \(beyond.source) anchors records up to \(beyond.sequence) (hash \(beyond.hash.prefix(12))…), but the chain ends at \(last): "
                                                + (beyond.sequence == last + 1 ? "record \(beyond.sequence) was" : "records \(last + 1)…\(beyond.sequence) were") + " cut off"))
        }
    }
}

extension StateDatabase {
    /// Verifies the chain in the database against itself and against the jobs table.
    package func verifyAudit() throws(StateError) -> (records: Int, problems: [AuditProblem]) {
        let report = try verifyAudit(anchors: [])
        return (report.records, report.problems)
    }

    /// Verifies the chain against itself, the jobs table, the audit key this database was opened
    /// with (if any) and the given anchors.
    package func verifyAudit(anchors: [AuditAnchor]) throws(StateError) -> AuditReport {
        let records = try auditRecords()
        let finished = try jobs(in: [.done, .failed, .cancelled]).filter { $0.finishedAt != nil }.map(\.id)
        return AuditRecord.verify(records, chain: chainID, key: auditKey, anchors: anchors, finishedJobs: finished)
    }
}
