package import Foundation

/// The instants retentiond reads as times: 0001-01-01T00:00:00Z up to, not including,
/// 10000-01-01T00:00:00Z. Stores may hold anything (a REAL `-Inf`, an INTEGER of microseconds, a
/// file dated year 318,000); a value outside this range is a bad value of its record — never due,
/// reported — not a time.
package enum RepresentableInstants: Sendable {
    /// The first instant retentiond reads as a time: 0001-01-01T00:00:00Z.
    package static let earliest = Date(timeIntervalSince1970: -62_135_596_800)
    /// The end of the representable range, exclusive: 10000-01-01T00:00:00Z.
    package static let end = Date(timeIntervalSince1970: 253_402_300_800)

    /// Whether `date` is a time retentiond computes with (years 0001–9999).
    package static func contains(_ date: Date) -> Bool {
        date >= earliest && date < end
    }
}
