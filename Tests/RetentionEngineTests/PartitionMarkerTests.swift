import Foundation
@testable import RetentionEngine
import Testing
import TestSupport

/// The marker of a partition taken whole, in the batch in flight: its own form, which no key of a
/// store that drops partitions can have, so a genuine text key equal to the line is a key.
@Suite("Partition marker")
struct PartitionMarkerTests {
    static let marker = PartitionMarker(oid: 16_384, rows: 31, name: "public.dynatrace_2026_01")

    @Test("the batch in flight holds the marker after a NUL; the digest takes the line, as always")
    func forms() {
        #expect(Self.marker.key == .text("retentiond-partition 16384 31 public.dynatrace_2026_01"))
        #expect(Self.marker.pendingKey == .text("\u{0}retentiond-partition 16384 31 public.dynatrace_2026_01"))
        for legacy in [false, true] {
            #expect(PartitionMarker([Self.marker.pendingKey], legacy: legacy) == Self.marker)
        }
    }

    @Test("a genuine text key equal to the line is a key; the line alone is a marker only where keys are integers (an earlier version's)")
    func genuineKey() {
        #expect(PartitionMarker([Self.marker.key], legacy: false) == nil)
        #expect(PartitionMarker([Self.marker.key], legacy: true) == Self.marker)
        #expect(PartitionMarker([Self.marker.pendingKey, .text("a")], legacy: true) == nil)
        #expect(PartitionMarker([.text("\u{0}retentiond-partition x 31 public.p")], legacy: false) == nil)
        #expect(PartitionMarker([.text("\u{0}retentiond-partition 1 -1 public.p")], legacy: false) == nil)
        #expect(PartitionMarker([.integer(16_384)], legacy: true) == nil)
    }

    @Test("the marker survives the state database's batch in flight as written, in SQLite")
    func stored() throws {
        let directory = TemporaryDirectory()
        let state = try StateDatabase(path: directory.path + "/state.sqlite", creation: .ifMissing)
        let job = try state.insert(StateStoreTests.job(.running))
        try state.beginBatch(of: job.id, keys: [Self.marker.pendingKey])
        let pending = try #require(try state.pendingBatch(of: job.id))
        #expect(pending == [Self.marker.pendingKey] && PartitionMarker(pending, legacy: false) == Self.marker)
        try state.beginBatch(of: job.id, keys: [Self.marker.key])
        #expect(PartitionMarker(try #require(try state.pendingBatch(of: job.id)), legacy: false) == nil)
    }
}
