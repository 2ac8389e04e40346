import RetentionEngine
import RetentionStores
import Testing

/// The command store's reply decoder, a pure function of the program's output.
@Suite("Command store replies")
struct CommandReplyTests {
    @Test("well-formed replies", arguments: [
        (#"{"count": 3, "total": 10}"#, CommandReply(count: 3, total: 10)),
        ("  {}\n", CommandReply()),
        (#"{"status":"done","count":2,"keys":["a",-7],"extra":{"nested":[1,2.5e3,true,null,"x"]}}"#,
         CommandReply(status: "done", count: 2, keys: [.text("a"), .integer(-7)])),
        (#"{"status": "failed", "message": "quota \u00e9\ud83d\ude00\n", "count": null, "keys": null}"#,
         CommandReply(status: "failed", message: "quota é😀\n")),
        (#"{"count": 9223372036854775807}"#, CommandReply(count: Int.max)),
    ])
    func decodes(text: String, expected: CommandReply) throws {
        #expect(try CommandReply.decode(Array(text.utf8)) == expected)
    }

    @Test("every refusal says what was expected, what was found, and where", arguments: [
        ("", "line 1, column 1: expected a JSON object ('{'), found nothing (the program wrote no reply)"),
        ("progress: 50%\n{\"count\": 1}", "line 1, column 1: expected a JSON object ('{'), found 'progress: 50%\\u{a}{\"coun…'"),
        ("{\"count\": 3.5}", "line 1, column 11: expected a whole number from 0 for \"count\", found 3.5"),
        ("{\"count\": -1}", "line 1, column 11: expected a whole number from 0 for \"count\", found -1"),
        ("{\"count\": \"3\"}", "line 1, column 11: expected a whole number for \"count\", found '\"3\"}'"),
        ("{\"count\": 99999999999999999999}", "line 1, column 11: expected a whole number from 0 for \"count\", found 99999999999999999999"),
        ("{\"count\": 1,\n \"count\": 2}", "line 2, column 2: expected each of count, keys, message, status, total at most once, found a second \"count\""),
        ("{\"keys\": [1, true]}", "line 1, column 14: expected a key (a text or a whole number), found 'true]}'"),
        ("{\"keys\": [1.5]}", "line 1, column 11: expected a whole number within 64 bits for a key, found 1.5"),
        ("{\"count\": 1} {\"count\": 2}", "line 1, column 14: expected nothing after the reply's object, found '{\"count\": 2}'"),
        ("{\"status\": \"do\u{1}ne\"}", "line 1, column 15: expected a control character written as an escape (\\n, \\u0001), found a raw control character"),
        ("{\"status\": \"\\ud800x\"}", "line 1, column 19: expected a low surrogate (\\uDC00-\\uDFFF) after a high one, found 'x\"}'"),
        ("{\"message\": \"never closed", "line 1, column 13: expected a closing '\"' for the text that starts here, found the end of the reply"),
        ("{\"count\": 1", "line 1, column 12: expected ',' or '}' after a member, found the end of the reply"),
    ])
    func refuses(text: String, message: String) {
        #expect(throws: CommandReplyError.self) { try CommandReply.decode(Array(text.utf8)) }
        do { _ = try CommandReply.decode(Array(text.utf8)) } catch { #expect(error.description == message) }
    }

    @Test("limits: size, nesting, key count and length; invalid UTF-8; a long message is cut, not refused")
    func limits() throws {
        var limits = CommandReply.Limits()
        limits.maxBytes = 100
        #expect(throws: CommandReplyError(expected: "a reply of at most 100 bytes", found: "101 bytes", line: 1, column: 1)) {
            try CommandReply.decode(Array(repeating: UInt8(ascii: " "), count: 101), limits: limits)
        }
        // 100,000 nested lists in a member nobody reads: refused at depth 32, not by a stack overflow.
        let deep = Array("{\"x\": ".utf8) + Array(repeating: UInt8(ascii: "["), count: 100_000)
        #expect(throws: CommandReplyError.self) { try CommandReply.decode(deep) }
        do { _ = try CommandReply.decode(deep) } catch { #expect(error.expected == "at most 32 nested lists and objects") }

        limits = CommandReply.Limits()
        limits.maxKeys = 3
        #expect(try CommandReply.decode(Array(#"{"keys": [1, 2, 3]}"#.utf8), limits: limits).keys?.count == 3)
        #expect(throws: CommandReplyError(expected: "at most 3 keys", found: "more", line: 1, column: 20)) {
            try CommandReply.decode(Array(#"{"keys": [1, 2, 3, 4]}"#.utf8), limits: limits)
        }
        let longKey = "{\"keys\": [\"" + String(repeating: "k", count: 4097) + "\"]}"
        #expect(throws: CommandReplyError.self) { try CommandReply.decode(Array(longKey.utf8)) }

        #expect(throws: CommandReplyError(expected: "text in UTF-8", found: "bytes that are not UTF-8", line: 1, column: 12)) {
            try CommandReply.decode(Array("{\"status\": \"".utf8) + [0xC3, 0x28] + Array("\"}".utf8))
        }

        let message = String(repeating: "é", count: 5000)
        let reply = try CommandReply.decode(Array("{\"message\": \"\(message)\"}".utf8))
        #expect(reply.message?.utf8.count ?? 0 <= 2000 + 3)
        #expect(reply.message?.hasSuffix("é…") == true, "cut between characters, never inside one")
    }

    @Test("arbitrary bytes: a reply or a located error, never a crash (a seeded mutation run)")
    func mutations() {
        var generator = SplitMix(seed: 12)
        let seeds = [#"{"status":"done","count":2,"keys":["a\u00e9",-7],"x":{"y":[1,2.5e3,true,null]}}"#, #"{"count": 3, "total": 10}"#]
            .map { Array($0.utf8) }
        let alphabet = Array(#"{}[]",:\-0123456789.eE+tfnu "#.utf8) + [0x00, 0x0A, 0x80, 0xC3, 0xFF]
        var decoded = 0
        for round in 0..<20_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0...(Int(generator.next() % 4)) {
                let position = Int(generator.next() % UInt64(bytes.count + 1))
                switch generator.next() % 3 {
                case 0: bytes.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: position)
                case 1: if position < bytes.count { bytes.remove(at: position) }
                default: if position < bytes.count { bytes[position] = alphabet[Int(generator.next() % UInt64(alphabet.count))] }
                }
            }
            do {
                _ = try CommandReply.decode(bytes)
                decoded += 1
            } catch {
                #expect(error.line >= 1 && error.column >= 1 && error.line <= bytes.count + 1)
            }
        }
        #expect(decoded > 0)
    }
}

/// A small deterministic generator, so that a failing mutation run can be repeated.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
