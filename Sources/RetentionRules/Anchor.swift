/// The event a period counts from: one logical field, or several meaning the earliest present.
///
/// "Delete contact requests when the request is closed, consent withdrawn or erasure requested,
/// whichever comes first" is `from: [request_closed_at, consent_withdrawn_at, erasure_requested_at]`.
/// A record whose anchor fields are all null has not started its period and is never due.
public struct Anchor: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The logical field names, as written; the earliest present value counts.
    public var fields: [String]

    /// Creates an anchor from one or more field names.
    public init(_ fields: [String]) {
        precondition(!fields.isEmpty, "an anchor names at least one field")
        self.fields = fields
    }

    /// `contract_end`, or `earliest of a, b, c`.
    public var description: String {
        fields.count == 1 ? fields[0] : "earliest of " + fields.joined(separator: ", ")
    }

    public init(from decoder: any Decoder) throws {
        self.fields = try decoder.singleValueContainer().decode([String].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(fields)
    }
}
