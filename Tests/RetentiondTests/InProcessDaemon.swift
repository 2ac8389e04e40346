import AsyncAlgorithms
import Foundation
import RetentionEngine
import ServiceLifecycleTestKit
import Synchronization
@testable import retentiond

/// The daemon's services run in this process on a `Scenario`, under the lifecycle test kit's
/// graceful shutdown, with what wakes them injected: a channel for SIGHUP, a manual pass timer.
enum InProcessDaemon {
    static func settings(_ scenario: Scenario, once: Bool = false) -> DaemonSettings {
        DaemonSettings(rulesPaths: [scenario.rulesPath], storesPaths: [scenario.storesPath], statePath: scenario.statePath,
                       stateCreation: .ifMissing, hmacKeyPath: nil, postgresPasswordFile: nil, interval: .seconds(3_600),
                       once: once, maximumClockJump: 3_600, options: EngineOptions())
    }

    /// Runs `daemon` while `body` runs, then shuts it down gracefully; returns whether it stopped
    /// within `seconds` of that (if not, it is cancelled).
    @discardableResult
    static func running<Trigger>(_ daemon: RetentionDaemon<Trigger>, stopWithin seconds: Double = 30,
                                 _ body: @Sendable (GracefulShutdownTestTrigger) async throws -> Void) async throws -> Bool {
        try await testGracefulShutdown { shutdown in
            try await withThrowingTaskGroup(of: Void.self) { group in
                let stopped = Latch()
                group.addTask {
                    try await daemon.run()
                    stopped.set()
                }
                try await body(shutdown)
                shutdown.triggerGracefulShutdown()
                let inTime = await eventually(seconds: seconds) { stopped.isSet }
                if !inTime { group.cancelAll() }
                try await group.waitForAll()
                return inTime
            }
        }
    }
}

/// Polls `condition` every 20 ms until it holds (true) or `seconds` have passed (false).
func eventually(seconds: Double = 20, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

/// A flag one task sets and another reads.
final class Latch: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}
