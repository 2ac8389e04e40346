/// A partition about to be taken whole, written as the job's batch in flight before the store is
/// touched (`StateStore.beginBatch`), so that a restart after a crash settles it exactly: the
/// partition no longer attached means the drop committed and its rows count once; still attached
/// means it rolled back and nothing was done.
///
/// The marker is one text key of a form no PostgreSQL batch of this job can hold next to it: a
/// batch of an integer-keyed table holds integer keys only, and a text key would have to be this
/// very line. The same line is what the job's key digest takes for the partition (DESIGN §6: a
/// dropped partition's keys are not read; the digest covers the partition by oid, name and rows).
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
    package init?(_ pending: [RecordKey]) {
        guard pending.count == 1, case .text(let text) = pending[0], text.hasPrefix(Self.prefix) else { return nil }
        let fields = text.dropFirst(Self.prefix.count).split(separator: " ", maxSplits: 2)
        guard fields.count == 3, let oid = Int64(fields[0]), let rows = Int(fields[1]), rows >= 0 else { return nil }
        self.init(oid: oid, rows: rows, name: String(fields[2]))
    }

    /// The marker as the batch's one key, and the partition's entry in the key digest.
    package var key: RecordKey { .text("\(Self.prefix)\(oid) \(rows) \(name)") }
}
