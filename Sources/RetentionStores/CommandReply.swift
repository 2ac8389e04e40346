package import RetentionEngine

/// What a command store's program answered: the one JSON object it wrote on stdout.
///
/// Decoding is a pure function of the bytes (no process, no I/O), so that a fuzzer can drive it
/// directly, and it is bounded by `Limits`: the reply is whatever a program printed, and a broken
/// or hostile program must cost a located error, never the daemon's memory or stack.
package struct CommandReply: Sendable, Hashable {
    /// `"done"` when an `execute` request was carried out; anything else fails the job.
    package var status: String?
    /// The records counted (`count`) or acted on (`execute`).
    package var count: Int?
    /// All records of the dataset, for the mass-deletion guard's share.
    package var total: Int?
    /// The keys acted on, for the audit digest.
    package var keys: [RecordKey]?
    /// Why the program failed, in its own words (cut to `Limits.maxMessageBytes`).
    package var message: String?

    package init(status: String? = nil, count: Int? = nil, total: Int? = nil, keys: [RecordKey]? = nil, message: String? = nil) {
        self.status = status
        self.count = count
        self.total = total
        self.keys = keys
        self.message = message
    }

    /// What a reply may hold. The defaults are what retentiond reads from a program.
    package struct Limits: Sendable, Hashable {
        /// The whole reply, in bytes: the connection stops reading (and stops the program) there.
        package var maxBytes = 16 << 20
        /// Entries of `keys`.
        package var maxKeys = 1_000_000
        /// Bytes of one text key.
        package var maxKeyBytes = 4096
        /// Nesting of arrays and objects (in members retentiond does not read, too).
        var maxDepth = 32
        /// `message` is cut, not refused, beyond this many bytes.
        package var maxMessageBytes = 2000

        package init() {}
    }

    /// Reads a reply: one JSON object (RFC 8259, UTF-8), optionally surrounded by whitespace.
    ///
    /// Members retentiond knows (`status`, `message`: text; `count`, `total`: whole numbers from 0;
    /// `keys`: a list of texts and whole numbers) must have those types and appear once; `null`
    /// counts as absent. Other members are checked for syntax and skipped.
    package static func decode(_ bytes: [UInt8], limits: Limits = Limits()) throws(CommandReplyError) -> CommandReply {
        guard bytes.count <= limits.maxBytes else {
            throw CommandReplyError(expected: "a reply of at most \(limits.maxBytes) bytes", found: "\(bytes.count) bytes",
                                    line: 1, column: 1)
        }
        var reader = CommandReplyReader(bytes: bytes, limits: limits)
        return try reader.reply()
    }
}

/// A reply that is not what the protocol asks for: what was expected, what was found, and where
/// (line and column of the program's output, both from 1; the column counts characters).
package struct CommandReplyError: Error, Sendable, Hashable, CustomStringConvertible {
    package var expected: String
    package var found: String
    package var line: Int
    package var column: Int

    package init(expected: String, found: String, line: Int, column: Int) {
        self.expected = expected
        self.found = found
        self.line = line
        self.column = column
    }

    package var description: String { "line \(line), column \(column): expected \(expected), found \(found)" }
}
