package import Foundation

/// The microsecond grid every instant retentiond computes with lies on: cutoffs, stored times and
/// the text of `InstantText` all round to it.
extension Date {
    /// Whole microseconds since 1970, rounded to the nearest. Total: a time beyond ±292,000 years
    /// (or not finite) saturates instead of trapping, so that a bad value in a store is that
    /// record's problem, never the process's.
    package var microsecondsSince1970: Int64 {
        let value = (timeIntervalSince1970 * 1e6).rounded()
        guard value.isFinite else { return value.isNaN || value < 0 ? .min : .max }
        return value >= 9.2e18 ? .max : value <= -9.2e18 ? .min : Int64(value)
    }

    /// The instant `micros` microseconds after 1970.
    package init(microsecondsSince1970 micros: Int64) {
        self.init(timeIntervalSince1970: Double(micros) / 1e6)
    }
}

extension Int64 {
    /// Division rounding towards minus infinity, with a remainder that is never negative: a day
    /// and the microseconds into it, before 1970 as after.
    package func quotientAndRemainderFloor(dividingBy divisor: Int64) -> (Int64, Int64) {
        var (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        if remainder < 0 { quotient -= 1; remainder += divisor }
        return (quotient, remainder)
    }
}
