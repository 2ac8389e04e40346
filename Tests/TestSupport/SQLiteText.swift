public import Foundation

/// Timestamps as an application writes them into SQLite, for test data.
public enum SQLiteText: Sendable {
    /// SQLite's UTC text `YYYY-MM-DD HH:MM:SS`, to the second.
    public static func seconds(_ date: Date) -> String {
        let style = Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!).year().month().day().dateSeparator(.dash)
            .time(includingFractionalSeconds: false).timeSeparator(.colon).dateTimeSeparator(.space)
        return date.formatted(style)
    }
}
