import Foundation
import FuzzSupport
import RetentionEngine
import RetentionStores

/// One input: what a command store's program wrote on stdout, read by `CommandReply.decode`
/// (Sources/RetentionStores/CommandReply.swift and CommandReplyReader.swift, linked here).
///
/// Invariants: decoding never traps, whatever the bytes, and stays within its limits; the keys of
/// a decoded reply survive the JSON round trip that the audit digest and the state database rely
/// on; counts are never negative; an error has a place (line and column from 1).
@main
enum FuzzCommandReply {
    static func main() { runFuzzer(fuzzOne) }
}

let encoder = JSONEncoder()
let decoder = JSONDecoder()
let limits = CommandReply.Limits()

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let reply: CommandReply
    do {
        reply = try CommandReply.decode(bytes)
    } catch {
        require(error.line >= 1 && error.column >= 1, "an error without a place: \(error)")
        return 0
    }
    require((reply.count ?? 0) >= 0 && (reply.total ?? 0) >= 0, "negative counts: \(reply)")
    require((reply.keys?.count ?? 0) <= limits.maxKeys, "more keys than the limit")
    require((reply.message?.utf8.count ?? 0) <= limits.maxMessageBytes + "…".utf8.count, "a message longer than the limit")
    guard let keys = reply.keys else { return 0 }
    for case .text(let text) in keys {
        require(text.utf8.count <= limits.maxKeyBytes, "a key of \(text.utf8.count) bytes")
    }
    guard let encoded = try? encoder.encode(keys), let again = try? decoder.decode([RecordKey].self, from: encoded) else {
        fatalError("the keys \(keys) do not encode and decode")
    }
    require(again == keys, "the keys \(keys) came back as \(again)")
    return 0
}
