import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// retentiond as systemd runs it: a real notify socket bound here, real signals, a real SQLite store.
@Suite("retentiond under a notify socket", .serialized)
struct DaemonTests {
    static let day: TimeInterval = 86_400

    @Test("READY only after loading; STATUS; watchdog pings; reload good and broken; STOPPING and exit 0 on SIGTERM")
    func lifecycle() throws {
        let scenario = try Scenario(ages: [40 * Self.day, 35 * Self.day, 5 * Self.day])
        defer { scenario.remove() }
        let socket = try NotifySocket(directory: scenario.directory)
        let daemon = try Daemon(scenario.arguments + ["--log-target", "console"],
                                environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "1000000"],
                                log: scenario.directory + "/daemon.log")
        var seen: [String] = []
        let ready = try #require(socket.receive(until: { $0.assignments["READY"] == "1" }, seconds: 20, seen: &seen), "\(daemon.output)")
        #expect(ready.assignments["STATUS"]?.contains("1 rules, 1 stores, 1 datasets") == true, "\(ready)")
        // The first pass runs after READY; its result shows in a later STATUS.
        let status = socket.receive(until: { $0.assignments["STATUS"]?.contains("last pass") == true }, seconds: 20, seen: &seen)
        #expect(status?.contains("done: 1 jobs, 2 records") == true, "\(seen)")
        #expect(status?.contains("next pass") == true)
        #expect(try scenario.rows() == 1)

        // Watchdog: at half of WATCHDOG_USEC while idle, so several within 2 s.
        var pings = 0
        let until = Date().addingTimeInterval(2)
        while Date() < until, let message = socket.receive(seconds: until.timeIntervalSinceNow) {
            if message.assignments["WATCHDOG"] == "1" { pings += 1 }
        }
        #expect(pings >= 3, "\(pings) watchdog pings in 2 s")

        // A good reload: RELOADING=1 with MONOTONIC_USEC, then READY=1.
        daemon.signal(SIGHUP)
        let reloading = socket.receive(until: { $0.assignments["RELOADING"] == "1" }, seconds: 10, seen: &seen)
        #expect(UInt64(reloading?.assignments["MONOTONIC_USEC"] ?? "") ?? 0 > 0, "\(seen)")
        #expect(socket.receive(until: { $0.assignments["READY"] == "1" }, seconds: 10, seen: &seen) != nil)
        #expect(daemon.waitForOutput("rules reloaded: 1 rules", seconds: 5), "\(daemon.output)")

        // A broken reload: the error located, the old rules kept, READY again, still running.
        try String(contentsOfFile: scenario.rulesPath, encoding: .utf8).replacingOccurrences(of: "retain: 30d", with: "retain: 30 parsecs")
            .write(toFile: scenario.rulesPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(socket.receive(until: { $0.assignments["RELOADING"] == "1" }, seconds: 10, seen: &seen) != nil)
        let after = socket.receive(until: { $0.assignments["READY"] == "1" }, seconds: 10, seen: &seen)
        #expect(after?.assignments["STATUS"]?.contains("1 rules") == true, "\(seen)")
        #expect(daemon.waitForOutput("rules rejected", seconds: 5))
        #expect(daemon.output.contains("\(scenario.rulesPath):7:16: error: 'retain': unknown unit 'parsecs'"), "\(daemon.output)")
        #expect(daemon.output.contains("the rules loaded before stay in force"))
        #expect(daemon.process.isRunning)

        daemon.signal(SIGTERM)
        #expect(socket.receive(until: { $0.assignments["STOPPING"] == "1" }, seconds: 10, seen: &seen) != nil)
        #expect(daemon.wait(seconds: 15) == 0, "\(daemon.output)")
    }

    @Test("hostile rules on SIGHUP — 2,000 nested parentheses, a tree of aliases, 40,000 anchor fields — are rejected at once; the old rules stay")
    func hostileReload() throws {
        let scenario = try Scenario(ages: [40 * Self.day])
        defer { scenario.remove() }
        let socket = try NotifySocket(directory: scenario.directory)
        let daemon = try Daemon(scenario.arguments + ["--log-target", "console"], environment: ["NOTIFY_SOCKET": socket.path],
                                log: scenario.directory + "/daemon.log")
        var seen: [String] = []
        #expect(socket.receive(until: { $0.assignments["READY"] == "1" }, seconds: 20, seen: &seen) != nil, "\(daemon.output)")
        let good = try String(contentsOfFile: scenario.rulesPath, encoding: .utf8)
        var laughs = "version: 1\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1..<9 { laughs += "x\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]\n" }
        let hostile: [(text: String, error: String)] = [
            (good.replacingOccurrences(of: "basis: test", with: "basis: test\n    when: \"" + String(repeating: "(", count: 2000)
                                       + "a is null" + String(repeating: ")", count: 2000) + "\""), "'when': the condition has 4003 words and signs"),
            (laughs + "rules: {}\n", "anchor &a0: anchors, aliases and tags are not part of the format"),
            (good.replacingOccurrences(of: "from: created_at", with: "from: [" + (0..<40_000).map { "f\($0)" }.joined(separator: ", ") + "]"),
             "'from' lists 40000 fields; at most 100 are read"),
        ]
        for (index, attack) in hostile.enumerated() {
            try attack.text.write(toFile: scenario.rulesPath, atomically: true, encoding: .utf8)
            let started = Date()
            daemon.signal(SIGHUP)
            let ready = socket.receive(until: { $0.assignments["READY"] == "1" }, seconds: 20, seen: &seen)
            #expect(ready?.assignments["STATUS"]?.contains("1 rules") == true, "attack \(index): \(seen)")
            #expect(Date().timeIntervalSince(started) < 10, "attack \(index) took \(Date().timeIntervalSince(started)) s")
            #expect(daemon.waitForOutput(attack.error, seconds: 5), "attack \(index): \(daemon.output)")
            #expect(daemon.process.isRunning)
        }
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 15) == 0, "\(daemon.output)")
    }

    @Test("broken rules at start: no READY, exit 1, every error located")
    func brokenAtStart() throws {
        let scenario = try Scenario(ages: [40 * Self.day])
        defer { scenario.remove() }
        try "version: 1\nrules:\n  x:\n    from: a\n    retian: 3d\n".write(toFile: scenario.rulesPath, atomically: true, encoding: .utf8)
        let socket = try NotifySocket(directory: scenario.directory)
        let daemon = try Daemon(scenario.arguments + ["--log-target", "console"], environment: ["NOTIFY_SOCKET": socket.path],
                                log: scenario.directory + "/daemon.log")
        #expect(daemon.wait(seconds: 20) == 1)
        var seen: [String] = []
        #expect(socket.receive(until: { $0.assignments["READY"] == "1" }, seconds: 0.5, seen: &seen) == nil, "\(seen)")
        #expect(daemon.output.contains("\(scenario.rulesPath):5:5: error: unknown key 'retian'"), "\(daemon.output)")
        #expect(daemon.output.contains("not starting"))
        #expect(try scenario.rows() == 1)
    }

    @Test("no watchdog pings when WATCHDOG_PID names another process")
    func watchdogForOtherPID() throws {
        let scenario = try Scenario(ages: [])
        defer { scenario.remove() }
        let socket = try NotifySocket(directory: scenario.directory)
        let daemon = try Daemon(scenario.arguments + ["--log-target", "console"],
                                environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000", "WATCHDOG_PID": "\(getpid())"],
                                log: scenario.directory + "/daemon.log")
        var seen: [String] = []
        #expect(socket.receive(until: { $0.assignments["READY"] == "1" }, seconds: 20, seen: &seen) != nil)
        _ = socket.receive(until: { _ in false }, seconds: 1.5, seen: &seen)
        #expect(!seen.contains { $0.assignments["WATCHDOG"] == "1" }, "\(seen)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 15) == 0)
    }

    @Test("SIGTERM in the middle of a job: the batch finishes, exit 0, counts exact; the next run finishes the job")
    func stopMidJob() throws {
        let total = 60_000
        let scenario = try Scenario(ages: (0..<total).map { $0 % 2 == 0 ? 40 * Self.day : Self.day }, batchSize: 50)
        defer { scenario.remove() }
        let due = total / 2
        let daemon = try Daemon(scenario.arguments + ["--log-target", "console"], log: scenario.directory + "/daemon.log")
        // Wait until the job is under way, then stop it.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, (try? scenario.jobs().first?.done) ?? 0 == 0 { usleep(10_000) }
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 30) == 0, "\(daemon.output)")
        let jobs = try scenario.jobs()
        let job = try #require(jobs.first)
        let remaining = try scenario.rows()
        print("stopped after \(job.done) of \(due) records")
        #expect(job.state == "running", "the job is left to resume, not finished: \(jobs)")
        #expect(job.done > 0 && job.done < due, "stopped mid-job: \(job.done) of \(due)")
        #expect(job.done % 50 == 0, "whole batches only: \(job.done)")
        #expect(total - remaining == job.done, "the count is exact: \(total - remaining) deleted, \(job.done) counted")

        let again = try Daemon(scenario.arguments + ["--once", "--log-target", "console"], log: scenario.directory + "/once.log")
        #expect(again.wait(seconds: 120) == 0, "\(again.output)")
        #expect(try scenario.rows() == total - due)
        #expect(try scenario.jobs().map(\.state) == ["done"])
        #expect(try scenario.jobs().first?.done == due)
    }

    @Test("between passes it sleeps until the next record falls due, not the whole interval")
    func wakesWhenDue() throws {
        // Due in 8 s under a 30-day rule (time enough to start on a loaded machine); the
        // daemon's interval is an hour.
        let scenario = try Scenario(ages: [30 * Self.day - 8, 10 * Self.day])
        defer { scenario.remove() }
        let daemon = try Daemon(scenario.arguments + ["--log-target", "console", "--interval", "1h"], log: scenario.directory + "/daemon.log")
        #expect(daemon.waitForOutput("pass done: 0 jobs", seconds: 20), "\(daemon.output)")
        #expect(try scenario.rows() == 2)
        #expect(daemon.waitForOutput("pass done: 1 jobs, 1 records", seconds: 25), "\(daemon.output)")
        #expect(try scenario.rows() == 1)
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 15) == 0)
    }

    @Test("--once runs one pass and exits 0; --dry-run changes nothing and writes no job")
    func onceAndDryRun() throws {
        let scenario = try Scenario(ages: [40 * Self.day, 5 * Self.day])
        defer { scenario.remove() }
        let dry = try Daemon(scenario.arguments + ["--once", "--dry-run", "--log-target", "console"], log: scenario.directory + "/dry.log")
        #expect(dry.wait(seconds: 60) == 0)
        #expect(dry.output.contains("dry run: would delete 1 records of app/events under rule \(scenario.rule)"), "\(dry.output)")
        #expect(try scenario.rows() == 2)
        #expect(try scenario.jobs().isEmpty)
        let once = try Daemon(scenario.arguments + ["--once", "--log-target", "console"], log: scenario.directory + "/once.log")
        #expect(once.wait(seconds: 60) == 0, "\(once.output)")
        #expect(try scenario.rows() == 1)
        #expect(try scenario.jobs().map(\.state) == ["done"])
    }

    @Test("a mistyped --state: the daemon refuses to start and deletes nothing; in its own StateDirectory= the first start creates it 0600")
    func stateIsCreatedOnlyInItsOwnDirectory() throws {
        let scenario = try Scenario(ages: [40 * Self.day])
        defer { scenario.remove() }
        let withoutInit = Array(scenario.arguments.dropLast())
        #expect(withoutInit.last == scenario.statePath)
        let typo = try Daemon(withoutInit + ["--once", "--log-target", "console"], log: scenario.directory + "/typo.log")
        #expect(typo.wait(seconds: 60) == 1)
        #expect(typo.output.contains("no state database here"), "\(typo.output)")
        #expect(!FileManager.default.fileExists(atPath: scenario.statePath))
        #expect(try scenario.rows() == 1)

        // Another directory as $STATE_DIRECTORY does not count.
        let elsewhere = try Daemon(withoutInit + ["--once", "--log-target", "console"], environment: ["STATE_DIRECTORY": "/tmp/elsewhere"],
                                   log: scenario.directory + "/elsewhere.log")
        #expect(elsewhere.wait(seconds: 60) == 1)
        #expect(!FileManager.default.fileExists(atPath: scenario.statePath))

        let first = try Daemon(withoutInit + ["--once", "--log-target", "console"], environment: ["STATE_DIRECTORY": "/nonexistent:" + scenario.directory],
                               log: scenario.directory + "/first.log")
        #expect(first.wait(seconds: 60) == 0, "\(first.output)")
        #expect(first.output.contains("created a new state database"), "\(first.output)")
        let mode = try FileManager.default.attributesOfItem(atPath: scenario.statePath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try scenario.rows() == 0)
    }

    /// Builds `Fixtures/wall-clock-shift.c`: preloaded, it moves the wall clock a process sees by the
    /// seconds written in a file, while its boot-time clock runs on. (libfaketime does the same but
    /// leaves a Swift program without its arguments; the host's own clock cannot be set here.)
    static func wallClockShift(in directory: String) throws -> String {
        let library = directory + "/wall-clock-shift.so"
        let source = Support.repository.appendingPathComponent("Tests/RetentiondTests/Fixtures/wall-clock-shift.c").path
        let (status, output) = try Support.run(["/usr/bin/cc", "-shared", "-fPIC", "-O2", "-o", library, source, "-ldl"])
        guard status == 0 else { throw POSIXError(.ENOEXEC, userInfo: [NSLocalizedDescriptionKey: output]) }
        return library
    }

    @Test("the wall clock jumps 15 days ahead while the daemon runs: no pass acts until 'clock accept' (the 31-day check against the last pass alone would let it through)")
    func clockJumpWhileRunning() throws {
        // Due now, due in 10 days, due in 25 days.
        let scenario = try Scenario(ages: [40 * Self.day, 20 * Self.day, 5 * Self.day])
        defer { scenario.remove() }
        let shift = scenario.directory + "/shift"
        try "0".write(toFile: shift, atomically: true, encoding: .utf8)
        let environment = ["LD_PRELOAD": try Self.wallClockShift(in: scenario.directory), "WALL_CLOCK_SHIFT_FILE": shift]
        let daemon = try Daemon(scenario.arguments + ["--log-target", "console", "--interval", "1h"], environment: environment,
                                log: scenario.directory + "/daemon.log")
        #expect(daemon.waitForOutput("pass done: 1 jobs, 1 records", seconds: 30), "\(daemon.output)")
        #expect(try scenario.rows() == 2)

        try "\(Int(15 * Self.day))".write(toFile: shift, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(daemon.waitForOutput("ahead of the time that passed since the daemon started", seconds: 30), "\(daemon.output)")
        #expect(try scenario.rows() == 2, "the record due in 10 days was kept")

        // The operator says the clock is right (under the same clock); the next pass acts.
        let ctl = URL(fileURLWithPath: Support.binary).deletingLastPathComponent().appendingPathComponent("retentionctl").path
        let accepted = try ProgramRun.run(ctl, ["clock", "accept", "--state", scenario.statePath, "--by", "operator"], environment: environment)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        daemon.signal(SIGHUP)
        #expect(daemon.waitForOutput("passes run again", seconds: 30), "\(daemon.output)")
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try? scenario.rows()) != 1 { usleep(50_000) }
        #expect(try scenario.rows() == 1, "\(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 15) == 0)
    }
}
