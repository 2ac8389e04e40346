package import Foundation
package import RetentionRules

/// How one kind of store means its values: which are times, and how its queries order them
/// against a cutoff or a condition's literal. The engine decides on a record in Swift
/// (`RecordPredicate.evaluate`, `RecordDecision`: `explain`, `retentionctl test`, a files store's
/// filter) exactly as the store's own queries decide, by asking the store's codec; the engine itself
/// knows instants and `StoreValue`s only. Each store kind owns its codec, next to its connection.
package protocol StoreCodec: Sendable {
    /// `value` as the instant the store means by it; nil for null and for what is no time at all.
    func time(_ value: StoreValue) -> Date?
    /// `value < cutoff` as the store's query compares them; nil (unknown) for null.
    func isBefore(_ value: StoreValue, _ cutoff: Date) -> Bool?
    /// The store's order of `value` and a condition's literal; nil (unknown) for null.
    func order(_ value: StoreValue, _ literal: Condition.Literal) -> ComparisonResult?
}

extension StoreCodec {
    /// A stored anchor value as an instant: nil for null and for what is not a representable time
    /// (years 0001–9999), a bad value of the record.
    package func instant(_ value: StoreValue) -> Date? {
        time(value).flatMap { RepresentableInstants.contains($0) ? $0 : nil }
    }
}
