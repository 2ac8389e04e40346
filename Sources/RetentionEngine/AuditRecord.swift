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
    /// On a shared state (`SharedState`): the fencing token (term) of the claim under which the
    /// job ended, from a sequence every claim of every job draws from, so that the records of
    /// one chain order the daemons that wrote them. Nil for a job ended without a claim (an
    /// operator's `cancel`) and on a state of its own (SQLite), where one daemon writes.
    package var term: Int64? = nil
    /// On a shared state: who appended the record (the daemon's `--daemon-id`, or a command's
    /// `host:pid`). Nil on a state of its own.
    package var daemon: String? = nil

    enum CodingKeys: String, CodingKey {
        case sequence, job, rule, store, dataset, stage, action, outcome, cutoff, count
        case startedAt = "started_at", finishedAt = "finished_at", keysSHA256 = "keys_sha256"
        case previousHash = "previous_hash", hash, note, mac, term, daemon
    }

    /// The text the hash covers: every field but the hash, in a fixed order, one per line. The
    /// fields added later (`note`, then `term` and `daemon`) are covered only when present, so
    /// that records written before them hash as they always did.
    var canonicalText: String {
        [String(sequence), String(job), rule, store, dataset, String(stage), action, outcome, cutoff, String(count),
         startedAt, finishedAt, keysSHA256, previousHash].joined(separator: "\n") + (note.map { "\n" + $0 } ?? "") + writerText
    }

    /// `term` and `daemon` as two labelled lines, or nothing when neither is there. The daemon's
    /// identity is an operator's text (`--daemon-id`): quoted as a JSON string, so that no
    /// identity, whatever it holds, reads as other lines.
    private var writerText: String {
        guard term != nil || daemon != nil else { return "" }
        return "\nterm " + (term.map(String.init) ?? "-") + "\ndaemon " + (daemon.map(Self.quoted) ?? "-")
    }

    /// `text` between double quotes, with quotes, backslashes and control characters escaped as
    /// JSON escapes them (`\"`, `\\`, `\u000a`): one line, and no two texts alike.
    private static func quoted(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"", "\\": quoted += "\\" + String(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0x7f: quoted += String(format: "\\u%04x", scalar.value)
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}
