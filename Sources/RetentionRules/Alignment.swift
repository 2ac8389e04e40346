/// Where a period starts relative to its anchor: "3 years from the end of the year of withdrawal".
public enum Alignment: String, Sendable, Hashable, Codable, CaseIterable {
    /// The period starts at 00:00 of the day after the anchor.
    case endOfDay = "end-of-day"
    /// The period starts at 00:00 on the first of the month after the anchor.
    case endOfMonth = "end-of-month"
    /// The period starts at 00:00 on 1 January after the anchor.
    case endOfYear = "end-of-year"

    /// The start of the period for an anchor seen on the wall clock.
    package func start(for anchor: LocalDateTime) -> LocalDateTime {
        switch self {
        case .endOfDay: anchor.startOfNextDay
        case .endOfMonth: anchor.startOfNextMonth
        case .endOfYear: anchor.startOfNextYear
        }
    }
}
