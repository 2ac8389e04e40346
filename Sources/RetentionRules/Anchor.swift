/// The event a period counts from: one logical field, or several meaning the earliest present.
///
/// "Delete contact requests when the request is closed, consent withdrawn or erasure requested,
/// whichever comes first" is `from: [request_closed_at, consent_withdrawn_at, erasure_requested_at]`.
/// A record whose anchor fields are all null has not started its period and is never due.
package struct Anchor: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The logical field names, as written; the earliest present value counts.
    package var fields: [String]

    /// Creates an anchor from one or more field names.
    package init(_ fields: [String]) {
        precondition(!fields.isEmpty, "an anchor names at least one field")
        self.fields = fields
    }

    /// `contract_end`, or `earliest of a, b, c`.
    package var description: String {
        fields.count == 1 ? fields[0] : "earliest of " + fields.joined(separator: ", ")
    }

    package init(from decoder: any Decoder) throws {
        self.fields = try decoder.singleValueContainer().decode([String].self)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(fields)
    }
}
