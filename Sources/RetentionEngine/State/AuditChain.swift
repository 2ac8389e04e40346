import Foundation
import Crypto

/// How the audit chain is made, whichever backend keeps it: the hash of a record, the record a
/// job's end appends after the chain's last, and the refusal to append unkeyed to a keyed chain.
/// Both backends compute exactly this, so that a record copied from one to the other (`state
/// migrate`) verifies there under the same key and journal anchors.
package enum AuditChain {
    /// The `previous_hash` of the first record.
    package static let genesis = String(repeating: "0", count: 64)

    /// The SHA-256 of the record's canonical text (`AuditRecord.canonicalText`), in hex.
    package static func hash(_ record: AuditRecord) -> String {
        SHA256.hash(data: Data(record.canonicalText.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The record that ending `job` appends after `last` (nil: the chain is empty), sealed with
    /// `key` when there is one. Once the chain is keyed, an unkeyed record would read as a MAC
    /// stripped off: refused.
    /// - Parameters:
    ///   - term: on a shared state, the fencing token of the claim the job ended under.
    ///   - daemon: on a shared state, who appends the record.
    ///   - location: the state database, for the refusal.
    package static func record(for job: Job, after last: AuditRecord?, chain: String, key: AuditKey?, term: Int64? = nil,
                               daemon: String? = nil, location: String) throws(StateError) -> AuditRecord {
        if key == nil, let last, last.mac != nil { throw unkeyedAppend(keyedFrom: last.sequence, location: location) }
        // From the row as saved: an unreadable job's record quotes what its row holds (its action
        // as written, say), not what this version put in its place.
        let row: JobRow
        do { (row, _) = try JobRow.saving(job) } catch {
            throw StateError(path: location, message: "cannot write job \(job.id)'s audit record: \(error)")
        }
        var record = AuditRecord(sequence: (last?.sequence ?? 0) + 1, job: job.id, rule: row.rule, store: row.store,
                                 dataset: row.dataset, stage: row.stage, action: row.action, outcome: row.state,
                                 cutoff: row.cutoff, count: row.doneCount, startedAt: row.startedAt ?? row.plannedAt,
                                 finishedAt: row.finishedAt ?? row.plannedAt, keysSHA256: job.keysDigest.hex,
                                 previousHash: last?.hash ?? genesis, hash: "", note: row.note, term: term, daemon: daemon)
        record.hash = hash(record)
        record.mac = key?.mac(chain: chain, hash: record.hash)
        return record
    }

    /// A pass would act and then fail to record it: the chain is keyed and no key was given.
    package static func unkeyedAppend(keyedFrom sequence: Int64, location: String) -> StateError {
        StateError(path: location, message: "refusing to act: the audit chain is keyed (record \(sequence) carries a MAC) and no key was given, "
                   + "so this could not be audited: give the key the chain was written with (--hmac-key FILE, or the systemd "
                   + "credential '\(HMACKey.credentialName)'; the audit key is derived from it)")
    }
}
