import Foundation
import RetentionEngine
import Testing
@testable import retentiond

/// On a shared state nothing but a pass takes over a job whose daemon died, froze or lost the
/// network, so a daemon there never sleeps longer than half a lease between passes, whatever
/// --interval says; a daemon of its own state sleeps the interval.
@Suite("retentiond's sleep between passes on a shared state")
struct SharedSleepTests {
    static func settings(interval: Duration, lease: Duration) -> DaemonSettings {
        var settings = DaemonSettings(rulesPaths: [], storesPaths: [], statePath: "state.sqlite", stateCreation: .refuse, hmacKeyPath: nil,
                                      postgresPasswordFile: nil, interval: interval, once: false, maximumClockJump: 3_600, options: EngineOptions())
        settings.lease = lease
        return settings
    }

    @Test("half the lease on a shared state, the interval on a state of its own, the interval when it is shorter")
    func longestSleep() {
        #expect(PassService.longestSleep(Self.settings(interval: .seconds(3_600), lease: .seconds(30)), shared: true) == 15)
        #expect(PassService.longestSleep(Self.settings(interval: .seconds(3_600), lease: .seconds(30)), shared: false) == 3_600)
        #expect(PassService.longestSleep(Self.settings(interval: .seconds(3_600), lease: .seconds(11)), shared: true) == 5.5)
        #expect(PassService.longestSleep(Self.settings(interval: .seconds(4), lease: .seconds(30)), shared: true) == 4)
    }
}
