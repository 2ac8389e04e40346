package import Foundation
package import RetentionRules

/// What a job does to each record of a batch.
package enum Change: Sendable, Hashable {
    case delete
    /// Replaces columns per strategy and sets `markColumn` (if any) to `at`.
    case anonymize(strategies: [String: AnonymizationStrategy], markColumn: String?, at: Date, hmacKey: HMACKey?)
    /// Sets `column` to `at`.
    case restrict(column: String, at: Date)
}
