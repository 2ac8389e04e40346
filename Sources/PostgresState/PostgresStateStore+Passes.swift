package import Foundation
import PostgresNIO
package import RetentionEngine
import RetentionRules

/// Passes and the clock, with the semantics of `StateDatabase+Passes`.
extension PostgresStateStore {
    package func hasHistory() async throws(StateError) -> Bool {
        try await transaction { [logger] connection in
            try await connection.query("""
                SELECT EXISTS (SELECT 1 FROM pass) OR EXISTS (SELECT 1 FROM job) OR EXISTS (SELECT 1 FROM hold)
                    OR EXISTS (SELECT 1 FROM locked_rule) OR EXISTS (SELECT 1 FROM audit)
                """, logger: logger).decode(Bool.self).first { _ in true } ?? false
        }
    }

    package func lastPassClock() async throws(StateError) -> Date? {
        try await transaction { [logger] connection in try await Self.latestStart(where: "TRUE", on: connection, logger: logger) }
    }

    package func beginPass(at now: Date, maximumGap: TimeInterval?) async throws(StateError) -> Int64 {
        try await transaction { [self] connection in
            if let last = try await Self.latestStart(where: "voided_at IS NULL", on: connection, logger: logger) {
                // Other daemons began passes too, under their hosts' clocks: a few seconds' skew, or
                // passes begun at once and committed in the other order, are no clock gone backwards.
                try PassClock.refuse(now, after: last, maximumGap: maximumGap, location: location, skew: Self.passClockSkew)
            }
            // Against this daemon's own passes (and those from before several daemons), strictly.
            if let own = try await connection.query("""
                SELECT max(started_at) FROM pass WHERE voided_at IS NULL AND (daemon IS NULL OR daemon = \(daemonID))
                """, logger: logger).decode(String?.self).first(where: { _ in true })?.flatMap(InstantText.parse) {
                try PassClock.refuse(now, after: own, maximumGap: nil, location: location)
            }
            return try await connection.query("INSERT INTO pass (started_at, daemon) VALUES (\(InstantText.format(now)), \(daemonID)) RETURNING id",
                                              logger: logger).decode(Int64.self).first { _ in true } ?? 0
        }
    }

    /// How far behind the latest pass a daemon's clock may read on a shared state.
    static let passClockSkew: TimeInterval = 30

    package func finishPass(_ id: Int64, at now: Date, result: String) async throws(StateError) {
        try await transaction { [logger] connection in
            try await connection.query("UPDATE pass SET finished_at = \(InstantText.format(now)), result = \(result) WHERE id = \(id)", logger: logger)
        }
    }

    package func acceptClock(at now: Date, by who: String) async throws(StateError) -> Int {
        try await transaction { [logger] connection in
            let stamp = InstantText.format(now)
            let voided = try await connection.query("""
                UPDATE pass SET voided_at = \(stamp), voided_by = \(who) WHERE started_at > \(stamp) AND voided_at IS NULL RETURNING id
                """, logger: logger).collect().count
            let result = PassClock.acceptedBy + who + (voided > 0 ? "; \(voided) later passes set aside" : "")
            try await connection.query("INSERT INTO pass (started_at, finished_at, result) VALUES (\(stamp), \(stamp), \(result))", logger: logger)
            return voided
        }
    }

    package func lastClockAcceptance() async throws(StateError) -> Date? {
        try await transaction { [logger] connection in
            try await Self.latestStart(where: "result LIKE '\(PassClock.acceptedBy)%'", on: connection, logger: logger)
        }
    }

    /// The latest start among the passes `condition` selects.
    private static func latestStart(where condition: String, on connection: PostgresConnection, logger: Logger) async throws -> Date? {
        try await connection.query(PostgresQuery(unsafeSQL: "SELECT max(started_at) FROM pass WHERE \(condition)"), logger: logger)
            .decode(String?.self).first { _ in true }?.flatMap(InstantText.parse)
    }
}
