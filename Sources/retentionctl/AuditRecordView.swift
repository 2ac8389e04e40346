import RetentionEngine

/// An audit record as `audit export` prints it, in JSON and CSV alike: every field of the record,
/// with the stage counted from 1 as in `jobs`, `plan` and the journal. The state database and the
/// canonical text keep the stage's index from 0, as every record was hashed with it.
struct AuditRecordView: Encodable {
    var sequence: Int64, job: Int64, rule: String, store: String, dataset: String, stage: Int, action: String, outcome: String
    var cutoff: String, count: Int, startedAt: String, finishedAt: String, keysSHA256: String, previousHash: String, hash: String
    var note: String?, mac: String?
    /// On a shared state: the term of the claim the job ended under, and who appended the record.
    var term: Int64?, daemon: String?

    init(_ record: AuditRecord) {
        (sequence, job, rule, store, dataset, stage) = (record.sequence, record.job, record.rule, record.store, record.dataset, record.stage + 1)
        (action, outcome, cutoff, count) = (record.action, record.outcome, record.cutoff, record.count)
        (startedAt, finishedAt, keysSHA256, previousHash, hash) = (record.startedAt, record.finishedAt, record.keysSHA256, record.previousHash, record.hash)
        (note, mac, term, daemon) = (record.note, record.mac, record.term, record.daemon)
    }

    static let csvHeader = ["sequence", "job", "rule", "store", "dataset", "stage", "action", "outcome", "cutoff", "count",
                            "started_at", "finished_at", "keys_sha256", "previous_hash", "hash", "note", "mac", "term", "daemon"]

    var csvRow: [String] {
        [String(sequence), String(job), rule, store, dataset, String(stage), action, outcome, cutoff,
         String(count), startedAt, finishedAt, keysSHA256, previousHash, hash, note ?? "", mac ?? "",
         term.map(String.init) ?? "", daemon ?? ""]
    }
}
