import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// retentiond with WatchdogSec= set, while a command store's program takes longer than that.
@Suite("retentiond's watchdog during a long command call", .serialized)
struct CommandWatchdogTests {
    @Test("pings go on while the program runs within its timeout (4 s of a 1 s watchdog)")
    func pingsDuringLongCall() throws {
        let directory = try Support.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
            version: 1
            defaults: {timezone: UTC}
            rules:
              logs: {retain: 30d, from: created_at, then: delete, basis: test}
            """.write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        try """
            version: 1
            stores:
              vendor:
                kind: command
                exec: program
                timeout: 30
                datasets:
                  events: {rules: [logs], fields: {created_at: ts}}
            """.write(toFile: directory + "/stores.yaml", atomically: true, encoding: .utf8)
        try """
            #!/bin/sh
            cat > /dev/null
            touch \(directory)/started
            sleep 4
            echo '{"count": 0}'
            """.write(toFile: directory + "/program", atomically: true, encoding: .utf8)
        chmod(directory + "/program", 0o755)
        let socket = try NotifySocket(directory: directory)
        let daemon = try Daemon(["--rules", directory + "/rules.yaml", "--stores", directory + "/stores.yaml",
                                 "--state", directory + "/state.sqlite", "--init", "--log-target", "console"],
                                environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "1000000"],
                                log: directory + "/daemon.log")
        var seen: [String] = []
        #expect(socket.receive(until: { $0.assignments["READY"] == "1" }, seconds: 20, seen: &seen) != nil, "\(daemon.output)")
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: directory + "/started"), Date() < deadline { usleep(20_000) }
        #expect(FileManager.default.fileExists(atPath: directory + "/started"), "\(daemon.output)")
        // The program sleeps 4 s; over 3 of them a 1 s watchdog expects a ping every 0.5 s.
        var pings: [Date] = []
        let until = Date().addingTimeInterval(3)
        while Date() < until, let message = socket.receive(seconds: until.timeIntervalSinceNow) {
            if message.assignments["WATCHDOG"] == "1" { pings.append(Date()) }
        }
        #expect(pings.count >= 4, "\(pings.count) watchdog pings in 3 s of a command call")
        let gaps = zip(pings.dropFirst(), pings).map { $0.timeIntervalSince($1) }
        #expect(gaps.allSatisfy { $0 < 1 }, "\(gaps)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 20) == 0, "\(daemon.output)")
    }
}
