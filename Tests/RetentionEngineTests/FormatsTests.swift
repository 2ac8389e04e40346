import Foundation
import RetentionEngine
import Testing

/// The formats an auditor or another program recomputes or compares against.
@Suite("Formats")
struct FormatsTests {
    @Test("the keys digest is SHA-256 of the sum of big-endian SHA-256(key + newline), as docs/engine.md recomputes it")
    func keysDigest() {
        var digest = KeyDigest()
        digest.add([RecordKey.text("c"), .text("a")])
        digest.add([RecordKey.text("b")])
        // python3: t = sum(int.from_bytes(sha256((k + "\n").encode()).digest(), "big") for k in "abc")
        //          sha256((t % 2**256).to_bytes(32, "big")).hexdigest()
        #expect(digest.hex == "4af8e902be7e4b9fc3f0405f1ed03f1d2b089380b8a481fdac6b663bae879d9d")
        #expect(KeyDigest(stateText: digest.stateText) == digest)
        #expect(KeyDigest().hex == "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925")
    }

    @Test("a cutoff is bound in its shortest text, so coarser stored timestamps compare by value", arguments: [
        ("2019-01-01", "2019-01-01 00:00:00", false),
        ("2018-12-31", "2019-01-01 00:00:00", true),
        ("2019-01-01 00:00", "2019-01-01 00:00:00", false),
        ("2019-01-01 10:30", "2019-01-01 10:30:00", false),
        ("2019-01-01 10:30", "2019-01-01 10:30:00.000001", true),
        ("2019-01-01 10:30:00.5", "2019-01-01 10:30:00.5", false),
        ("2019-01-01 10:30:00.50", "2019-01-01 10:30:00.500001", true),
        ("2019-01-01 10:30:00", "2019-01-01 10:30", false),
    ])
    func cutoffText(stored: String, cutoff: String, due: Bool) {
        let cutoffDate = TimeText.parseSQLite(cutoff)!
        let storedDate = TimeText.parseSQLite(stored)!
        #expect((stored < TimeText.sqliteCutoff(cutoffDate)) == due)
        #expect((storedDate < cutoffDate) == due)
    }
}
