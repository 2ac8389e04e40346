package import Foundation
import RetentionRules

/// One value read from a store, in the few shapes the engine reasons about.
package enum StoreValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    /// A native timestamp (PostgreSQL `timestamptz`, a file time).
    case date(Date)

    package var isNull: Bool { self == .null }

    package var description: String {
        switch self {
        case .null: "null"
        case .integer(let value): String(value)
        case .real(let value): String(value)
        case .text(let value): value
        case .date(let value): InstantText.civil(value)
        }
    }
}
