package import Foundation
package import RetentionRules

extension Date {
    /// Reads an instant option (`--at`): an ISO 8601 date or date-time (`Timestamp`); without an
    /// offset, a wall-clock time in the local time zone.
    package init(instantOption text: String) throws(TimestampSyntaxError) {
        self = try Timestamp.parse(text).instant(in: RetentionCalendar(timeZone: .current))
    }
}
