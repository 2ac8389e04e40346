import Foundation

/// Proof that a job ran: what, when, under which rule, how many records and a digest of their
/// keys — never the personal data itself. Each record is chained to the one before by SHA-256.
package struct AuditRecord: Sendable, Hashable, Codable {
    /// Position in the chain, from 1.
    package var sequence: Int64
    package var job: Int64
    package var rule: String
    package var store: String
    package var dataset: String
    /// The stage's index in the rule, from 0.
    package var stage: Int
    package var action: String
    /// The job's outcome: done, failed or cancelled.
    package var outcome: String
    package var cutoff: String
    package var count: Int
    package var startedAt: String
    package var finishedAt: String
    /// `KeyDigest` over the affected keys.
    package var keysSHA256: String
    /// The hash of the previous record (64 zeros for the first).
    package var previousHash: String
    /// SHA-256 over `previousHash` and this record's fields.
    package var hash: String
    /// What the job was for beyond its rule: a deferred erasure's restriction names the
    /// obligation and until when (`erasure under rule R deferred by rule O until T`). Covered by
    /// the hash when present; records without one hash as they always did.
    package var note: String? = nil
    /// HMAC-SHA256 of the chain's id and `hash` under the audit key (`AuditKey`); nil for a record
    /// appended without a key (before keying, or with no `hmac-key` credential). Not part of the
    /// canonical text: it seals the hash, which covers everything else.
    package var mac: String? = nil

    enum CodingKeys: String, CodingKey {
        case sequence, job, rule, store, dataset, stage, action, outcome, cutoff, count
        case startedAt = "started_at", finishedAt = "finished_at", keysSHA256 = "keys_sha256"
        case previousHash = "previous_hash", hash, note, mac
    }

    /// The text the hash covers: every field but the hash, in a fixed order, one per line.
    var canonicalText: String {
        [String(sequence), String(job), rule, store, dataset, String(stage), action, outcome, cutoff, String(count),
         startedAt, finishedAt, keysSHA256, previousHash].joined(separator: "\n") + (note.map { "\n" + $0 } ?? "")
    }
}
