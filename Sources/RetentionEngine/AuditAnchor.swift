/// A copy of one audit record's place in the chain, kept outside the state database: the journal's
/// `audit-appended` entry, or a head an auditor noted (`retentionctl audit head`). Whoever can
/// rewrite the state database cannot reach it, so a record rewritten or cut off no longer matches.
package struct AuditAnchor: Sendable, Hashable, CustomStringConvertible {
    package var sequence: Int64
    /// The record's chain hash.
    package var hash: String
    /// The record's MAC, when it had one.
    package var mac: String?
    /// The id of the chain (`audit_chain.id` of the state database) the record belongs to.
    package var chain: String?
    /// The state database's path when the record was appended, for messages.
    package var state: String?
    /// Where the anchor comes from, for messages: `journal`, `head`.
    var source: String

    package init(sequence: Int64, hash: String, mac: String? = nil, chain: String? = nil, state: String? = nil, source: String) {
        self.sequence = sequence
        self.hash = hash
        self.mac = mac
        self.chain = chain
        self.state = state
        self.source = source
    }

    /// The anchor of a record just appended to `chain` in the state database at `state`.
    package init(_ record: AuditRecord, chain: String, state: String) {
        self.init(sequence: record.sequence, hash: record.hash, mac: record.mac, chain: chain, state: state, source: "journal")
    }

    /// `SEQUENCE:HASH`, as `audit head` prints it and `audit verify --head` takes it.
    package var description: String { "\(sequence):\(hash)" }

    /// Reads `SEQUENCE:HASH` (a 64-digit lower-case hex hash); nil if it is not that.
    package init?(head text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let sequence = Int64(parts[0]), sequence > 0, Self.isHash(parts[1]) else { return nil }
        self.init(sequence: sequence, hash: String(parts[1]), source: "head")
    }

    // MARK: Named fields

    /// The anchor's fields by name, as the daemon and `retentionctl` write them to the journal
    /// and `journalctl -o json` gives them back. These names are an interface: never change one.
    static let sequenceField = "AUDIT_SEQUENCE", hashField = "AUDIT_HASH", macField = "AUDIT_MAC"
    package static let chainField = "AUDIT_CHAIN", stateField = "STATE"

    /// The anchor as named fields (the MAC only when the record had one).
    package var fields: [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = [(Self.sequenceField, String(sequence)), (Self.hashField, hash)]
        if let mac { fields.append((Self.macField, mac)) }
        if let chain { fields.append((Self.chainField, chain)) }
        if let state { fields.append((Self.stateField, state)) }
        return fields
    }

    /// An anchor from named fields (one journal entry); nil if the sequence or the hash is missing
    /// or malformed.
    package init?(fields: [String: String], source: String) {
        guard let sequence = fields[Self.sequenceField].flatMap({ Int64($0) }), sequence > 0,
              let hash = fields[Self.hashField], Self.isHash(Substring(hash)) else { return nil }
        self.init(sequence: sequence, hash: hash, mac: fields[Self.macField], chain: fields[Self.chainField],
                  state: fields[Self.stateField], source: source)
    }

    static func isHash(_ text: Substring) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
