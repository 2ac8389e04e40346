import Foundation
@testable import RetentionEngine
import Testing
import TestSupport

/// In the Partitions suite, which runs its tests one at a time on the one `dynatrace` table.
extension PartitionTests {
    @Test("a partition drop a crash interrupted, recorded in this version's form, is settled by the partition's state: gone counts once, attached nothing")
    func settledFromPendingKey() async throws {
        guard let (dsn, password) = Self.server() else { return }
        let later = Self.now.addingTimeInterval(2 * 86_400)
        for (taken, month, rows) in [(true, "01", 31), (false, "02", 28)] {
            try Self.create()
            let fixture = Fixture(rules: Self.rules, stores: Self.stores(dsn, "grace: 1d"))
            let engine = try Self.engine(fixture, password: password)
            _ = try await engine.runPass(at: Self.now)
            let job = try #require(try engine.database.jobs(in: [.planned]).first)
            let oid = try Self.psql("SELECT 'public.dynatrace_2026_\(month)'::regclass::oid")
            let marker = PartitionMarker(oid: Int64(oid) ?? -1, rows: rows, name: "public.dynatrace_2026_\(month)")
            try engine.database.beginBatch(of: job.id, keys: [marker.pendingKey])
            if taken { try Self.psql("ALTER TABLE dynatrace DETACH PARTITION dynatrace_2026_\(month); DROP TABLE dynatrace_2026_\(month)") }
            let report = try await engine.runPass(at: later)
            #expect(report.finished.map(\.doneCount) == [73], "taken: \(taken)")
            #expect(try Self.ids() == Array(71...105))
            #expect(try engine.database.auditRecords().map(\.count) == [73])
            #expect(try Self.attached() == ["dynatrace_2026_03", "dynatrace_2026_04", "dynatrace_default"])
        }
    }
}
