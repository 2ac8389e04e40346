import Foundation
import RetentionEngine
import RetentionRules
import RetentionStores
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

    @Test("hmac-sha256 is lower-case hex HMAC-SHA256 under the key's bytes, as any HMAC library computes it")
    func hmacSHA256() throws {
        let key = HMACKey(bytes: Data("0123456789abcdef0123456789abcdef".utf8))
        // python3: hmac.new(b"0123456789abcdef0123456789abcdef", b"a@example.com", hashlib.sha256).hexdigest()
        #expect(key.apply("a@example.com") == "f9a936aaaaa5aac3ad349e31bfa5ad446546ccd6aa879fd35997da22a9b0527a")
        let value = try Anonymizer.apply(.hmacSHA256, to: .text("a@example.com"), key: key)
        #expect(value == .text("f9a936aaaaa5aac3ad349e31bfa5ad446546ccd6aa879fd35997da22a9b0527a"))
    }

    @Test("hmac-sha256 keys of any length: shorter than SHA-256's block padded, one block as is, longer ones hashed first (RFC 2104)", arguments: [
        // python3: hmac.new(key, message, hashlib.sha256).hexdigest()
        (Data("0123456789abcdef".utf8), "", "496dc93fa2d26eae500ec0bc37a122706b88f8963cebf0899d0245fae313e241"),
        (Data("0123456789abcdef".utf8), "é€😀", "45443b32ff8c61a70d56d11088d5e0cc5f1f07adf98a27e08cd1f203deb45b09"),
        (Data(repeating: UInt8(ascii: "k"), count: 64), "a@example.com", "b410c02278ff94167ee81052f7a211193ac9588bea05c1cad7f372003dce4620"),
        (Data(repeating: UInt8(ascii: "K"), count: 65), "a@example.com", "0b26c5761479c5ba337cb6be832539fb93f081a916c1de46acaf03f3f0362554"),
        (Data(0..<100), "", "d3a5bd70c0b5394e7eb7b08662b7b8d8e77501edfbd5add0a4180aa0255ac523"),
        (Data(0..<100), "é€😀", "be752e11d8022a680a1be4831c359d8f76b985a26f17549106e75378c8898029"),
    ])
    func hmacKeyLengths(key: Data, message: String, mac: String) {
        #expect(HMACKey(bytes: key).apply(message) == mac)
    }

    @Test("truncate-ip: IPv4 to its /24, IPv6 to its /48, a prefix dropped, anything else 0.0.0.0", arguments: [
        ("192.0.2.17", "192.0.2.0"), ("192.0.2.17/32", "192.0.2.0"), ("255.255.255.255", "255.255.255.0"), ("0.0.0.7", "0.0.0.0"),
        ("2001:db8:1:2::5", "2001:db8:1::"), ("2001:db8:1:2::5/128", "2001:db8:1::"), ("::1", "::"),
        ("10.1.2.3:8080", "0.0.0.0"), ("garbage", "0.0.0.0"), ("", "0.0.0.0"), (String(repeating: "1", count: 100), "0.0.0.0"),
    ])
    func truncateIP(address: String, truncated: String) {
        #expect(Anonymizer.truncateIP(address) == truncated)
    }

    @Test("an integer key is digested as its decimal text, also at the extremes")
    func integerKeysDigest() {
        let values: [Int64] = [0, 7, -42, 1_234_567_890, .max, .min]
        var integers = KeyDigest(), texts = KeyDigest()
        integers.add(values.map(RecordKey.integer))
        texts.add(values.map { RecordKey.text(String($0)) })
        #expect(integers.hex == texts.hex)
        var other = KeyDigest()
        other.add([RecordKey.integer(8)])
        #expect(other.hex != KeyDigest().hex)
        // Two digests of disjoint sets add up to the digest of their union (a batch digested apart).
        var whole = KeyDigest(), part = KeyDigest(), rest = KeyDigest()
        whole.add((1...50).map(RecordKey.integer))
        part.add((1...20).map(RecordKey.integer))
        rest.add((21...50).map(RecordKey.integer))
        part.add(rest)
        #expect(part == whole)
        #expect(part.count == 50)
    }

    @Test("a batch's keys as runs: consecutive integers become ranges that name exactly them")
    func keyRuns() throws {
        let keys: [RecordKey] = [5, 1, 2, 3, 4, 9, 10, 20, 21, 22, 23, 24, 4].map(RecordKey.integer) + [.text("a/b.log")]
        let runs = KeyRuns(keys)
        #expect(runs.ranges == [1...5, 20...24])
        #expect(Set(runs.singles) == [.integer(9), .integer(10), .text("a/b.log")])
        #expect(Set(runs.keys) == Set(keys))
        let decoded = try JSONDecoder().decode(KeyRuns.self, from: JSONEncoder().encode(runs))
        #expect(decoded == runs)
        #expect(KeyRuns([]).isEmpty)
    }

    @Test("keys already in increasing order make the same runs as the same keys shuffled and repeated")
    func keyRunsInOrder() {
        let ordered: [RecordKey] = [-3, -2, -1, 0, 1, 5, 8, 9, 10, 11, 12, 40].map(RecordKey.integer)
        let runs = KeyRuns(ordered)
        #expect(runs.ranges == [-3...1, 8...12])
        #expect(runs.singles == [.integer(5), .integer(40)])
        #expect(runs == KeyRuns(ordered.reversed() + [.integer(9), .integer(-3)]))
        #expect(runs.keys == ordered)
        // Not increasing (a repeat, a text key): still each key once.
        #expect(KeyRuns([1, 2, 2, 3, 4].map(RecordKey.integer)).ranges == [1...4])
        #expect(KeyRuns([.integer(1), .integer(2), .integer(3), .integer(4), .text("5")]).singles == [.text("5")])
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
        let cutoffDate = SQLiteTimeText.parse(cutoff)!
        let storedDate = SQLiteTimeText.parse(stored)!
        #expect((stored < SQLiteTimeText.cutoff(cutoffDate)) == due)
        #expect((storedDate < cutoffDate) == due)
    }

    // Found by the fuzzer (Fuzz/, FuzzCondition): a condition on a small real printed as `1e-06`,
    // so a job planned under `when: ratio < 0.000001` was stored in a form it could not be read
    // back from.
    @Test("a job's condition is stored as text that reads back as the same condition", arguments: [
        "ratio < 0.000001", "amount >= -12345678901234567890.5 or amount = 0.1", "not (a is null and b != 'x''y')", "b = 'O''\u{7F1}Brien'",
    ])
    func storedCondition(text: String) throws {
        let predicate = RecordPredicate.condition(try Condition.parse(text), columns: ["ratio": "r", "amount": "a", "a": "a", "b": "b"])
        let stored = try JSONEncoder().encode(predicate)
        let again = try JSONDecoder().decode(RecordPredicate.self, from: stored)
        guard case .condition(let condition, _) = again, case .condition(let original, _) = predicate else {
            Issue.record("\(again) is not a condition")
            return
        }
        #expect(condition.description == original.description)
    }
}
