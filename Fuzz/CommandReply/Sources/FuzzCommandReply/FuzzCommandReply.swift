import Foundation
import FuzzSupport
import RetentionEngine

/// One input: what a command store's program wrote on stdout.
///
/// Invariants: decoding never traps, whatever the bytes; the keys of a decoded reply survive the
/// JSON round trip that the audit digest and the state database rely on.
@main
enum FuzzCommandReply {
    static func main() { runFuzzer(fuzzOne) }
}

/// The reply as `CommandConnection` decodes it today: its `Reply` (nested in the connection,
/// which cannot be built without its module's dependencies), member for member, through
/// `JSONDecoder`; the keys through `RecordKey`'s own decoding, linked from Sources/.
///
/// When the decoding becomes a pure function of the bytes (issue 12's command store rewrite,
/// `CommandReply.decode` in CommandReply.swift and CommandReplyReader.swift), link those two
/// files into a `RetentionStores` target here and call it instead; docs/fuzzing.md says how.
struct Reply: Decodable {
    var status: String?
    var count: Int?
    var total: Int?
    var keys: [RecordKey]?
    var message: String?
}

func decodeReply(_ bytes: Data) -> [RecordKey]? {
    (try? JSONDecoder().decode(Reply.self, from: bytes))?.keys
}

let encoder = JSONEncoder()
let decoder = JSONDecoder()

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Data(bytes: $0, count: size) } ?? Data()
    guard let keys = decodeReply(bytes) else { return 0 }
    guard let encoded = try? encoder.encode(keys), let again = try? decoder.decode([RecordKey].self, from: encoded) else {
        fatalError("the keys \(keys) do not encode and decode")
    }
    require(again == keys, "the keys \(keys) came back as \(again)")
    return 0
}
