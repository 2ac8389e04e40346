import RetentionEngine

/// A strict, bounded JSON reader for exactly the shape of a `CommandReply`.
///
/// Our own rather than `JSONDecoder`: Foundation's errors say "The given data was not valid JSON"
/// without a position, accept duplicate members silently (the last wins), and leave the limits to
/// Foundation. Here every error names its line and column, nesting is capped before the stack
/// is, and a key list is capped before memory is.
struct CommandReplyReader {
    let bytes: [UInt8]
    let limits: CommandReply.Limits
    var offset = 0

    init(bytes: [UInt8], limits: CommandReply.Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    mutating func reply() throws(CommandReplyError) -> CommandReply {
        skipWhitespace()
        guard peek == UInt8(ascii: "{") else { throw error(expected: "a JSON object ('{')") }
        offset += 1
        var reply = CommandReply()
        var seen: Set<String> = []
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            offset += 1
        } else {
            while true {
                skipWhitespace()
                let nameOffset = offset
                let name = try string(what: "a member name in double quotes", limit: limits.maxBytes)
                if Self.members.contains(name), !seen.insert(name).inserted {
                    offset = nameOffset
                    throw error(expected: "each of \(Self.members.sorted().joined(separator: ", ")) at most once", found: "a second \"\(name)\"")
                }
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':' after the member name")
                skipWhitespace()
                try member(name, into: &reply)
                skipWhitespace()
                if peek == UInt8(ascii: ",") { offset += 1; continue }
                try expect(UInt8(ascii: "}"), "',' or '}' after a member")
                break
            }
        }
        skipWhitespace()
        guard offset == bytes.count else { throw error(expected: "nothing after the reply's object") }
        return reply
    }

    static let members: Set<String> = ["status", "count", "total", "keys", "message"]

    mutating func member(_ name: String, into reply: inout CommandReply) throws(CommandReplyError) {
        if name != "keys", Self.members.contains(name), literal("null") { return }
        switch name {
        case "status": reply.status = try string(what: "a text for \"status\"", limit: limits.maxKeyBytes)
        case "message": reply.message = Self.cut(try string(what: "a text for \"message\"", limit: limits.maxBytes), to: limits.maxMessageBytes)
        case "count": reply.count = Int(try wholeNumber("\"count\"", minimum: 0))
        case "total": reply.total = Int(try wholeNumber("\"total\"", minimum: 0))
        case "keys":
            if literal("null") { return }
            reply.keys = try keys()
        default: try skipValue(depth: 1)
        }
    }

    mutating func keys() throws(CommandReplyError) -> [RecordKey] {
        try expect(UInt8(ascii: "["), "a list for \"keys\" ('[')")
        var keys: [RecordKey] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") { offset += 1; return keys }
        while true {
            skipWhitespace()
            guard keys.count < limits.maxKeys else {
                throw error(expected: "at most \(limits.maxKeys) keys", found: "more")
            }
            if peek == UInt8(ascii: "\"") {
                keys.append(.text(try string(what: "a key", limit: limits.maxKeyBytes)))
            } else if let byte = peek, byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                keys.append(.integer(try wholeNumber("a key", minimum: .min)))
            } else {
                throw error(expected: "a key (a text or a whole number)")
            }
            skipWhitespace()
            if peek == UInt8(ascii: ",") { offset += 1; continue }
            try expect(UInt8(ascii: "]"), "',' or ']' in \"keys\"")
            return keys
        }
    }

    // MARK: Values

    /// A JSON number that is a whole number within Int64 and at least `minimum`; `label` names
    /// it in errors (`"count"`, `a key`).
    mutating func wholeNumber(_ label: String, minimum: Int64) throws(CommandReplyError) -> Int64 {
        let start = offset
        guard let text = number() else { throw error(expected: "a whole number for \(label)") }
        guard !text.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
              let value = Int64(String(decoding: text, as: UTF8.self)), value >= minimum else {
            offset = start
            let wanted = minimum == 0 ? "a whole number from 0" : "a whole number within 64 bits"
            throw error(expected: "\(wanted) for \(label)", found: String(decoding: text.prefix(40), as: UTF8.self))
        }
        return value
    }

    /// The bytes of a JSON number (RFC 8259 § 6), or nil (nothing consumed) if none starts here.
    mutating func number() -> ArraySlice<UInt8>? {
        let start = offset
        var position = offset
        func digits() -> Int {
            let first = position
            while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") { position += 1 }
            return position - first
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        if position < bytes.count, bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else if digits() == 0 {
            return nil
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { return nil }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { return nil }
        }
        offset = position
        return bytes[start..<position]
    }

    /// A JSON string, unescaped, of at most `limit` bytes of UTF-8.
    mutating func string(what: String, limit: Int) throws(CommandReplyError) -> String {
        guard peek == UInt8(ascii: "\"") else { throw error(expected: what) }
        let start = offset
        offset += 1
        var result: [UInt8] = []
        while true {
            guard let byte = peek else {
                offset = start
                throw error(expected: "a closing '\"' for the text that starts here", found: "the end of the reply")
            }
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                guard let text = String(validating: result, as: UTF8.self) else {
                    offset = start
                    throw error(expected: "text in UTF-8", found: "bytes that are not UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                offset += 1
                try escape(into: &result)
            case 0..<0x20:
                throw error(expected: "a control character written as an escape (\\n, \\u0001)", found: "a raw control character")
            default:
                result.append(byte)
                offset += 1
            }
            guard result.count <= limit else {
                offset = start
                throw error(expected: "\(what) of at most \(limit) bytes", found: "a longer one")
            }
        }
    }

    mutating func escape(into result: inout [UInt8]) throws(CommandReplyError) {
        guard let byte = peek else { throw error(expected: "an escape after '\\'") }
        offset += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): result.append(byte)
        case UInt8(ascii: "b"): result.append(0x08)
        case UInt8(ascii: "f"): result.append(0x0C)
        case UInt8(ascii: "n"): result.append(0x0A)
        case UInt8(ascii: "r"): result.append(0x0D)
        case UInt8(ascii: "t"): result.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate must be followed by an escaped low one: together one scalar.
                guard literal("\\u") else { throw error(expected: "a low surrogate (\\uDC00-\\uDFFF) after a high one") }
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else {
                    offset -= 6
                    throw error(expected: "a low surrogate (\\uDC00-\\uDFFF) after a high one")
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                offset -= 6
                throw error(expected: "a low surrogate only after a high one")
            }
            result.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
        default:
            offset -= 2
            throw error(expected: "an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")
        }
    }

    mutating func hex4() throws(CommandReplyError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw error(expected: "four hexadecimal digits after \\u") }
        var value: UInt32 = 0
        for byte in bytes[offset..<offset + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error(expected: "four hexadecimal digits after \\u")
            }
            value = value << 4 | UInt32(digit)
        }
        offset += 4
        return value
    }

    /// Checks and skips any JSON value (a member retentiond does not read), at most `maxDepth` deep.
    mutating func skipValue(depth: Int) throws(CommandReplyError) {
        skipWhitespace()
        switch peek {
        case UInt8(ascii: "\"")?: _ = try string(what: "a text", limit: limits.maxBytes)
        case UInt8(ascii: "{")?, UInt8(ascii: "[")?:
            guard depth < limits.maxDepth else { throw error(expected: "at most \(limits.maxDepth) nested lists and objects", found: "more") }
            let isObject = peek == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            offset += 1
            skipWhitespace()
            if peek == close { offset += 1; return }
            while true {
                skipWhitespace()
                if isObject {
                    _ = try string(what: "a member name in double quotes", limit: limits.maxBytes)
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"), "':' after the member name")
                }
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if peek == UInt8(ascii: ",") { offset += 1; continue }
                try expect(close, isObject ? "',' or '}'" : "',' or ']'")
                return
            }
        default:
            if literal("true") || literal("false") || literal("null") || number() != nil { return }
            throw error(expected: "a JSON value")
        }
    }

    // MARK: Scanning

    var peek: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { offset += 1 }
    }

    /// Consumes `text` if the bytes here are exactly it.
    mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard offset + count <= bytes.count else { return false }
        let matches = text.withUTF8Buffer { expected in bytes[offset..<offset + count].elementsEqual(expected) }
        if matches { offset += count }
        return matches
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(CommandReplyError) {
        guard peek == byte else { throw error(expected: what) }
        offset += 1
    }

    /// `text` cut to at most `limit` bytes of UTF-8, never inside a character's bytes.
    static func cut(_ text: String, to limit: Int) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.count > limit else { return text }
        var end = limit
        while end > 0, utf8[end] & 0xC0 == 0x80 { end -= 1 }
        return String(decoding: utf8[..<end], as: UTF8.self) + "…"
    }

    // MARK: Errors

    /// An error at the current offset; `found` defaults to what is there.
    func error(expected: String, found: String? = nil) -> CommandReplyError {
        var line = 1, column = 1
        for byte in bytes[..<min(offset, bytes.count)] {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return CommandReplyError(expected: expected, found: found ?? foundHere, line: line, column: column)
    }

    /// What is at the offset, shown safely: at most 20 bytes, invalid UTF-8 and controls escaped.
    var foundHere: String {
        guard offset < bytes.count else { return offset == 0 ? "nothing (the program wrote no reply)" : "the end of the reply" }
        let shown = String(decoding: bytes[offset..<min(bytes.count, offset + 20)], as: UTF8.self)
        let escaped = shown.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
        return "'\(escaped)\(bytes.count > offset + 20 ? "…" : "")'"
    }
}
