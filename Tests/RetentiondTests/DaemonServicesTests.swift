import AsyncAlgorithms
import Foundation
import Logging
import RetentionEngine
import ServiceLifecycleTestKit
import Testing
@testable import retentiond

/// The daemon's services in this process: reloads and wakes by injected triggers, graceful
/// shutdown by the lifecycle test kit, the log in memory. No signal, socket or sleep of an hour.
@Suite("retentiond's services in-process", .serialized)
struct DaemonServicesTests {
    static let day: TimeInterval = 86_400

    /// What each pass logged at its end, without its duration.
    static func passes(_ log: LogRecorder) -> [String] {
        log.all.map(\.message).filter { $0.hasPrefix("pass ") }.map { message in
            message.range(of: " in ", options: .backwards).map { String(message[..<$0.lowerBound]) } ?? message
        }
    }

    @Test("a reload by the injected trigger keeps the last good rules on a broken file and puts a good one in force, each followed by a pass")
    func reload() async throws {
        let scenario = try Scenario(ages: [40 * Self.day])
        defer { scenario.remove() }
        let log = LogRecorder(), notifier = RecordingNotifier(), hangups = AsyncChannel<Void>()
        let daemon = RetentionDaemon(settings: InProcessDaemon.settings(scenario), logger: log.logger, notifier: notifier,
                                     reloadTrigger: hangups, timer: ManualPassTimer())
        let good = try String(contentsOfFile: scenario.rulesPath, encoding: .utf8)
        let stopped = try await InProcessDaemon.running(daemon) { _ in
            #expect(await eventually { Self.passes(log) == ["pass done: 1 jobs, 1 records, 0 waiting"] }, "\(log.all)")

            try good.replacingOccurrences(of: "retain: 30d", with: "retain: 30 parsecs").write(toFile: scenario.rulesPath, atomically: true, encoding: .utf8)
            await hangups.send(())
            #expect(await eventually { notifier.readies.count == 2 }, "\(notifier.all)")
            #expect(notifier.readies.last?.hasPrefix("1 rules, 1 stores, 1 datasets") == true, "\(notifier.readies)")
            let located = log.all.first { $0.message.contains("'retain': unknown unit 'parsecs'") }
            #expect(located?.metadata["config_file"] == "\(scenario.rulesPath)", "\(log.all)")
            #expect(log.all.contains { $0.message.contains("rules rejected") && $0.message.contains("the rules loaded before stay in force")
                && $0.metadata["event"] == "\(EngineEvent.rulesRejected.rawValue)" })
            #expect(await eventually { Self.passes(log).count == 2 }, "a pass follows the rejected reload: \(Self.passes(log))")

            try (good + "  second:\n    from: created_at\n    retain: 90d\n    then: delete\n    basis: test\n")
                .write(toFile: scenario.rulesPath, atomically: true, encoding: .utf8)
            await hangups.send(())
            #expect(await eventually { notifier.readies.count == 3 }, "\(notifier.all)")
            #expect(notifier.readies.last?.hasPrefix("2 rules, 1 stores, 1 datasets") == true, "\(notifier.readies)")
            let reloaded = log.all.first { $0.message == "rules reloaded: 2 rules, 1 stores, 1 datasets" }
            #expect(reloaded?.metadata["event"] == "\(EngineEvent.rulesReloaded.rawValue)" && reloaded?.metadata["count"] == "2", "\(log.all)")
            #expect(await eventually { Self.passes(log).count == 3 }, "a pass follows the good reload: \(Self.passes(log))")
        }
        #expect(stopped)
        let lifecycle = notifier.all.filter { if case .status = $0 { false } else { true } }.map { message -> String in
            switch message {
            case .ready: "READY"
            case .reloading: "RELOADING"
            case .stopping: "STOPPING"
            default: "\(message)"
            }
        }
        #expect(lifecycle == ["READY", "RELOADING", "READY", "RELOADING", "READY", "STOPPING"])
    }

    @Test("between passes it sleeps until the next record falls due, and wakes when the timer says so, not before")
    func sleepsUntilDue() async throws {
        // Due in 6 s: time enough to start and run the first pass on a loaded machine.
        let due = Date().addingTimeInterval(6)
        let scenario = try Scenario(ages: [30 * Self.day - 6, 10 * Self.day])
        defer { scenario.remove() }
        let log = LogRecorder(), notifier = RecordingNotifier(), timer = ManualPassTimer()
        let daemon = RetentionDaemon<AsyncChannel<Void>>(settings: InProcessDaemon.settings(scenario), logger: log.logger,
                                                         notifier: notifier, reloadTrigger: nil, timer: timer)
        let stopped = try await InProcessDaemon.running(daemon) { _ in
            #expect(await eventually { timer.deadlines.count == 1 }, "\(log.all)")
            #expect(Self.passes(log) == ["pass done: 0 jobs, 0 records, 0 waiting"])
            let deadline = try #require(timer.deadlines.first)
            #expect(abs(deadline.timeIntervalSince(due)) < 2, "asked to wake at \(deadline), the record falls due at \(due)")
            let status = notifier.all.compactMap { if case .status(let line) = $0 { line } else { nil } }.last
            #expect(status?.contains("; next pass \(DaemonStatus.clock(deadline))") == true, "\(notifier.all)")

            // The record falls due, but the timer has not said so: no pass.
            try await Task.sleep(for: .seconds(max(0, deadline.timeIntervalSinceNow) + 1))
            #expect(Self.passes(log).count == 1)
            #expect(try scenario.rows() == 2)

            timer.fire()
            #expect(await eventually { Self.passes(log).count == 2 }, "\(log.all)")
            #expect(Self.passes(log).last == "pass done: 1 jobs, 1 records, 0 waiting")
            #expect(try scenario.rows() == 1)
            #expect(await eventually { timer.deadlines.count == 2 }, "it sleeps again")
        }
        #expect(stopped, "graceful shutdown while it sleeps a second time")
    }

    @Test("graceful shutdown while it sleeps: no further pass, STOPPING, the sleep cancelled")
    func shutdownWhileAsleep() async throws {
        let scenario = try Scenario(ages: [40 * Self.day])
        defer { scenario.remove() }
        let log = LogRecorder(), notifier = RecordingNotifier(), timer = ManualPassTimer()
        let daemon = RetentionDaemon(settings: InProcessDaemon.settings(scenario), logger: log.logger, notifier: notifier,
                                     reloadTrigger: AsyncChannel<Void>(), timer: timer)
        let stopped = try await InProcessDaemon.running(daemon) { _ in
            #expect(await eventually { timer.sleeping == 1 }, "\(log.all)")
        }
        #expect(stopped)
        #expect(await eventually { timer.sleeping == 0 }, "the sleep is cancelled")
        #expect(Self.passes(log) == ["pass done: 1 jobs, 1 records, 0 waiting"])
        #expect(notifier.all.last == .stopping, "\(notifier.all)")
    }

    @Test("graceful shutdown during a pass: the batch finishes, the job is left to resume, no pass follows")
    func shutdownDuringPass() async throws {
        let total = 60_000, due = total / 2
        let scenario = try Scenario(ages: (0..<total).map { $0 % 2 == 0 ? 40 * Self.day : Self.day }, batchSize: 50)
        defer { scenario.remove() }
        let log = LogRecorder(), timer = ManualPassTimer()
        let daemon = RetentionDaemon(settings: InProcessDaemon.settings(scenario), logger: log.logger, notifier: RecordingNotifier(),
                                     reloadTrigger: AsyncChannel<Void>(), timer: timer)
        let stopped = try await InProcessDaemon.running(daemon) { _ in
            #expect(await eventually(seconds: 60) { ((try? scenario.jobs().first?.done) ?? 0) > 0 }, "\(log.all)")
        }
        #expect(stopped)
        let job = try #require(try scenario.jobs().first)
        #expect(job.state == "running", "left to resume: \(job)")
        #expect(job.done > 0 && job.done < due && job.done % 50 == 0, "whole batches, stopped mid-job: \(job.done) of \(due)")
        #expect(total - (try scenario.rows()) == job.done)
        #expect(Self.passes(log).count == 1 && Self.passes(log).first?.hasPrefix("pass stopped: ") == true, "\(Self.passes(log))")
        #expect(timer.deadlines.isEmpty, "it never slept")
    }

    @Test("--once: one pass, then the services return by themselves")
    func once() async throws {
        let scenario = try Scenario(ages: [40 * Self.day, 5 * Self.day])
        defer { scenario.remove() }
        let log = LogRecorder(), notifier = RecordingNotifier(watchdogTimeout: .seconds(1))
        let daemon = RetentionDaemon<AsyncChannel<Void>>(settings: InProcessDaemon.settings(scenario, once: true), logger: log.logger,
                                                         notifier: notifier, reloadTrigger: nil, timer: ManualPassTimer())
        try await testGracefulShutdown { _ in try await daemon.run() }
        #expect(Self.passes(log) == ["pass done: 1 jobs, 1 records, 0 waiting"])
        #expect(!daemon.flags.anyFailed)
        #expect(!notifier.all.contains(.watchdog), "no watchdog with --once")
    }
}
