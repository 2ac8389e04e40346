import Foundation

/// Proof that a job ran: what, when, under which rule, how many records and a digest of their
/// keys — never the personal data itself. Each record is chained to the one before by SHA-256.
public struct AuditRecord: Sendable, Hashable, Codable {
    /// Position in the chain, from 1.
    public var sequence: Int64
    public var job: Int64
    public var rule: String
    public var store: String
    public var dataset: String
    /// The stage's index in the rule, from 0.
    public var stage: Int
    public var action: String
    /// The job's outcome: done, failed or cancelled.
    public var outcome: String
    public var cutoff: String
    public var count: Int
    public var startedAt: String
    public var finishedAt: String
    /// `KeyDigest` over the affected keys.
    public var keysSHA256: String
    /// The hash of the previous record (64 zeros for the first).
    public var previousHash: String
    /// SHA-256 over `previousHash` and this record's fields.
    public var hash: String
    /// What the job was for beyond its rule: a deferred erasure's restriction names the
    /// obligation and until when (`erasure under rule R deferred by rule O until T`). Covered by
    /// the hash when present; records without one hash as they always did.
    public var note: String? = nil
    /// HMAC-SHA256 of the chain's id and `hash` under the audit key (`AuditKey`); nil for a record
    /// appended without a key (before keying, or with no `hmac-key` credential). Not part of the
    /// canonical text: it seals the hash, which covers everything else.
    public var mac: String? = nil

    enum CodingKeys: String, CodingKey {
        case sequence, job, rule, store, dataset, stage, action, outcome, cutoff, count
        case startedAt = "started_at", finishedAt = "finished_at", keysSHA256 = "keys_sha256"
        case previousHash = "previous_hash", hash, note, mac
    }

    /// The text the hash covers: every field but the hash, in a fixed order, one per line.
    public var canonicalText: String {
        [String(sequence), String(job), rule, store, dataset, String(stage), action, outcome, cutoff, String(count),
         startedAt, finishedAt, keysSHA256, previousHash].joined(separator: "\n") + (note.map { "\n" + $0 } ?? "")
    }
}
