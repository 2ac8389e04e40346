import AsyncAlgorithms
import Foundation
import ServiceLifecycleTestKit
import Synchronization
import Testing
@testable import retentiond

/// The pieces the pass service wakes by, alone.
@Suite("retentiond's wakes and watchdog")
struct WakeTests {
    @Test("a new deadline replaces the one before and cancels its sleep: only the latest rings; a stop wakes at once; no sleep outlives the alarm")
    func latestDeadlineRings() async throws {
        let timer = ManualPassTimer(), seen = WakeLog()
        let alarm = PassAlarm(timer: timer)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await alarm.run() }
            group.addTask { for await wake in alarm.rings { _ = seen.append(wake) } }
            let first = Date(timeIntervalSince1970: 1_000), second = Date(timeIntervalSince1970: 2_000)
            await alarm.set(first)
            #expect(await eventually { timer.sleeping == 1 })
            await alarm.set(second)
            #expect(await eventually { timer.deadlines == [first, second] && timer.sleeping == 1 }, "the first sleep is cancelled")
            timer.fire()
            #expect(await eventually { seen.all == [.due(second)] }, "\(seen.all)")
            await alarm.set(first)
            #expect(await eventually { timer.sleeping == 1 })
            alarm.stop()
            #expect(await eventually { seen.all == [.due(second), .stopping] }, "\(seen.all)")
            group.cancelAll()
            try await group.waitForAll()
        }
        #expect(timer.sleeping == 0)
    }

    @Test("the pass service's wakes: a reload and the alarm, merged")
    func wakesMerged() async throws {
        let (reloads, reloaded) = AsyncStream.makeStream(of: Void.self)
        let alarm = PassAlarm(timer: ManualPassTimer())
        let wakes = PassWake.merged(rulesChanged: reloads, alarm: alarm)
        reloaded.yield()
        alarm.stop()
        var seen: Set<PassWake> = []
        for await wake in wakes {
            seen.insert(wake)
            if seen.count == 2 { break }
        }
        #expect(seen == [.rulesChanged, .stopping])
    }

    @Test("a stale alarm, set for a deadline since replaced, does not count as a wake")
    func staleAlarmIsSkipped() async {
        let old = Date(timeIntervalSince1970: 1_000), new = Date(timeIntervalSince1970: 2_000)
        var iterator = [PassWake.due(old), .rulesChanged].async.makeAsyncIterator()
        #expect(await PassService.wake(for: new, from: &iterator) == .rulesChanged)
        var due = [PassWake.due(old), .due(new)].async.makeAsyncIterator()
        #expect(await PassService.wake(for: new, from: &due) == .due(new))
        var none = [PassWake.due(old)].async.makeAsyncIterator()
        #expect(await PassService.wake(for: new, from: &none) == nil)
    }

    @Test("the watchdog pings while idle or making progress, and stops when progress stops")
    func watchdogCountsProgress() async throws {
        let notifier = RecordingNotifier(), liveness = Liveness()
        let watchdog = WatchdogService(timeout: .milliseconds(400), liveness: liveness, notifier: notifier)
        func pings() -> Int { notifier.all.filter { $0 == .watchdog }.count }
        liveness.setIdle(true)
        try await testGracefulShutdown { shutdown in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await watchdog.run() }
                // Waits, not fixed sleeps, and long ones: a loaded machine may run the timer late, never early
                // (a full parallel test run on 2 cores starved it for over 10 s).
                #expect(await eventually(seconds: 60) { pings() >= 3 }, "\(pings()) pings while idle")
                liveness.setIdle(false)
                let lastBeat = ContinuousClock.now
                try await Task.sleep(for: .milliseconds(700))
                let stuck = pings()
                try await Task.sleep(for: .milliseconds(600))
                #expect(pings() == stuck, "no progress for \(lastBeat.duration(to: .now)) of a 400 ms watchdog, yet a ping")
                #expect(await eventually(seconds: 60) { liveness.beat(); return pings() > stuck }, "progress again: pings again")
                shutdown.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }
}

/// The wakes a sequence gave, for a test to look at while it runs.
final class WakeLog: Sendable {
    private let wakes = Mutex<[PassWake]>([])
    var all: [PassWake] { wakes.withLock { $0 } }

    /// Appends `wake`; returns how many there are now.
    func append(_ wake: PassWake) -> Int { wakes.withLock { $0.append(wake); return $0.count } }
}
