/// A partition about to be taken whole, written as the job's batch in flight before the store is
/// touched (`StateStore.beginBatch`), so that a restart after a crash settles it exactly: the
/// partition no longer attached means the drop committed and its rows count once; still attached
/// means it rolled back and nothing was done.
///
/// In the batch in flight the marker is one text key no store key can be (`pendingKey`): the line
/// `retentiond-partition OID ROWS SCHEMA.NAME` after a NUL character, which PostgreSQL text (the
/// only store that drops partitions) cannot hold — so a genuine text key equal to the line is
/// never taken for a marker. In the job's key digest the partition is the line itself (`key`),
/// as it always was (DESIGN §6: a dropped partition's keys are not read; the digest covers the
/// partition by oid, rows and name), so digests stay reproducible across versions.
package struct PartitionMarker: Sendable, Hashable {
    package var oid: Int64
    package var rows: Int
    package var name: String

    static let prefix = "retentiond-partition "

    package init(oid: Int64, rows: Int, name: String) {
        self.oid = oid
        self.rows = rows
        self.name = name
    }

    /// Reads a pending batch as a marker; nil when it is a batch of keys.
    /// - Parameter legacy: also read the line without its NUL, as versions before it wrote it.
    ///   Only where no key can be text (an integer-keyed table): elsewhere that line may be a key.
    package init?(_ pending: [RecordKey], legacy: Bool) {
        guard pending.count == 1, case .text(let text) = pending[0] else { return nil }
        let line: Substring
        if text.hasPrefix(Self.pendingPrefix + Self.prefix) {
            line = text.dropFirst(Self.pendingPrefix.count + Self.prefix.count)
        } else if legacy, text.hasPrefix(Self.prefix) {
            line = text.dropFirst(Self.prefix.count)
        } else {
            return nil
        }
        let fields = line.split(separator: " ", maxSplits: 2)
        guard fields.count == 3, let oid = Int64(fields[0]), let rows = Int(fields[1]), rows >= 0 else { return nil }
        self.init(oid: oid, rows: rows, name: String(fields[2]))
    }

    /// The partition's entry in the key digest: the line.
    package var key: RecordKey { .text("\(Self.prefix)\(oid) \(rows) \(name)") }

    /// The marker as the batch in flight's one key: the line after a NUL.
    package var pendingKey: RecordKey { .text("\(Self.pendingPrefix)\(Self.prefix)\(oid) \(rows) \(name)") }

    /// What no key of a store that drops partitions can begin with.
    static let pendingPrefix = "\u{0}"
}
