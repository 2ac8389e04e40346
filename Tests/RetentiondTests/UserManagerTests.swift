import Foundation
import RetentionEngine
import Testing
@testable import retentiond
#if canImport(Glibc)
import Glibc
#endif

/// retentiond under a real `systemd --user` manager (scripts/with-user-manager), with the
/// shipped unit: start returns after READY, status shows STATUS, the watchdog keeps it alive while
/// it idles, reload with good and broken rules, stop with Result=success, and the pass in the journal.
@Suite("retentiond under systemd --user", .serialized)
struct UserManagerTests {
    /// Settings a user manager cannot apply without privileges (capabilities, and the mount
    /// namespaces that ProtectSystem= and friends need): left out of the unit under test.
    /// `systemd-analyze security` checks them on the shipped unit instead.
    static let privilegedOnly = ["User", "Group", "CapabilityBoundingSet", "AmbientCapabilities", "ProtectSystem", "ProtectHome",
                                 "PrivateTmp", "PrivateDevices", "DevicePolicy", "ProtectKernelTunables", "ProtectKernelModules",
                                 "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock", "ProtectHostname", "ProtectProc",
                                 "ProcSubset", "PrivateMounts"]

    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // utime and stime are fields 14 and 15; after "pid (comm)" they are the 12th and 13th.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test("start after READY, STATUS, watchdog while idle, reload good and broken, stop with Result=success, the pass in the journal")
    func endToEnd() throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["RETENTIOND_TEST_USER_MANAGER"] == "1", let systemctlPath = environment["RETENTIOND_TEST_SYSTEMCTL"],
              let home = environment["RETENTIOND_TEST_USER_HOME"], let user = environment["RETENTIOND_TEST_USER"] else {
            #expect(environment["RETENTIOND_REQUIRE_USER_MANAGER"] != "1", "a user manager is required but scripts/with-user-manager did not provide one")
            return
        }
        func systemctl(_ arguments: String...) throws -> (status: Int32, output: String) { try Support.run([systemctlPath] + arguments) }
        func property(_ name: String) throws -> String {
            try systemctl("show", "-p", name, "--value", "retentiond.service").output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let rule = "user-manager-\(UUID().uuidString.prefix(8).lowercased())"
        let scenario = try Scenario(ages: [40 * 86_400, 35 * 86_400, 86_400], rule: rule)
        defer { scenario.remove() }
        // The user's own copy of everything: binary, configuration, state, credential.
        let fileManager = FileManager.default
        let etc = home + "/etc", unitDirectory = home + "/.config/systemd/user"
        for directory in [home + "/bin", etc, unitDirectory] { try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        try? fileManager.removeItem(atPath: home + "/bin/retentiond")
        try fileManager.copyItem(atPath: Support.binary, toPath: home + "/bin/retentiond")
        for file in ["rules.yaml", "stores.yaml", "app.sqlite"] {
            try? fileManager.removeItem(atPath: etc + "/" + file)
            try fileManager.copyItem(atPath: scenario.directory + "/" + file, toPath: etc + "/" + file)
        }
        try "0123456789abcdef0123456789abcdef\n".write(toFile: etc + "/hmac-key", atomically: true, encoding: .utf8)
        try "".write(toFile: etc + "/postgres-password", atomically: true, encoding: .utf8)

        var unit = try String(contentsOf: Support.repository.appendingPathComponent("units/retentiond.service"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).filter { line in
                !Self.privilegedOnly.contains { line.hasPrefix($0 + "=") }
            }.joined(separator: "\n")
        unit = unit.replacingOccurrences(of: "@BINDIR@/retentiond", with: "\(home)/bin/retentiond --rules \(etc)/rules.yaml --stores \(etc)/stores.yaml --state \(etc)/state.sqlite --init")
            .replacingOccurrences(of: "/etc/retentiond/credentials/", with: etc + "/")
            .replacingOccurrences(of: "WatchdogSec=5min", with: "WatchdogSec=2s")
        #expect(unit.contains("Type=notify") && unit.contains("SystemCallFilter=@system-service") && unit.contains("WatchdogSec=2s"))
        try unit.write(toFile: unitDirectory + "/retentiond.service", atomically: true, encoding: .utf8)
        #expect(try Support.run(["/bin/chown", "-R", "\(user):", home]).status == 0)
        #expect(try systemctl("daemon-reload").status == 0)

        // start returns once READY=1 arrived: the service is active with a status at once.
        let start = try systemctl("start", "retentiond.service")
        #expect(start.status == 0, "\(start.output)")
        #expect(try property("ActiveState") == "active")
        let pid = try #require(Int32(try property("MainPID")))
        #expect(pid > 0)
        #expect(try property("StatusText").contains("1 rules, 1 stores, 1 datasets"))
        let status = try systemctl("status", "--no-pager", "retentiond.service").output
        #expect(status.contains("Status: \"1 rules, 1 stores, 1 datasets"), "\(status)")

        // The pass is in the journal with its fields, from the unit's main process.
        let done = try JournalTests.entries(["RULE=\(rule)", "MESSAGE_ID=\(MessageIDs.byEvent[.jobDone]!)"], count: 1)
        #expect(done.first?["_PID"] == String(pid), "\(done)")
        #expect(done.first?["COUNT"] == "2")
        #expect(done.first?["STORE"] == "app" && done.first?["DATASET"] == "events")

        // A minute of idling: the 2 s watchdog must be fed all along, and the CPU stay near zero.
        let cpuBefore = try #require(Self.cpuSeconds(pid))
        let started = Date()
        Thread.sleep(forTimeInterval: 60)
        let cpu = try #require(Self.cpuSeconds(pid)) - cpuBefore
        let share = cpu / Date().timeIntervalSince(started) * 100
        print("retentiond idle: \(String(format: "%.2f", cpu)) s CPU in 60 s (\(String(format: "%.3f", share)) %), watchdog 2 s")
        #expect(try property("NRestarts") == "0")
        #expect(try property("MainPID") == String(pid), "the watchdog did not restart it")
        #expect(share < 1, "no busy polling: \(share) % CPU while idle")

        // Reload with a good file: a second rule is in force afterwards.
        try (String(contentsOfFile: etc + "/rules.yaml", encoding: .utf8) + """
              \(rule)-second:
                from: created_at
                retain: 90d
                then: delete
                basis: test

            """).write(toFile: etc + "/rules.yaml", atomically: true, encoding: .utf8)
        #expect(try systemctl("reload", "retentiond.service").status == 0)
        let reloaded = try JournalTests.entries(["_PID=\(pid)", "MESSAGE_ID=\(MessageIDs.byEvent[.rulesReloaded]!)"], count: 1)
        #expect(reloaded.first?["COUNT"] == "2", "\(reloaded)")
        for _ in 0..<50 where !(try property("StatusText")).hasPrefix("2 rules") { usleep(100_000) }
        #expect(try property("StatusText").hasPrefix("2 rules"))

        // Reload with a broken file: rejected, located, and the two rules stay in force.
        try "version: 1\nrules:\n  x:\n    from: a\n    retain: 3 fortnights\n    then: delete\n".write(toFile: etc + "/rules.yaml", atomically: true, encoding: .utf8)
        #expect(try systemctl("reload", "retentiond.service").status == 0)
        let rejected = try JournalTests.entries(["_PID=\(pid)", "MESSAGE_ID=\(MessageIDs.byEvent[.rulesRejected]!)"], count: 1)
        #expect(rejected.count == 1, "\(rejected)")
        let located = try JournalTests.entries(["_PID=\(pid)", "CONFIG_FILE=\(etc)/rules.yaml"], count: 1)
        #expect(located.first?["MESSAGE"]?.contains("rules.yaml:5:") == true, "\(located)")
        #expect(try property("ActiveState") == "active")
        #expect(try property("MainPID") == String(pid))
        #expect(try property("StatusText").hasPrefix("2 rules"))

        // Stop: SIGTERM, STOPPING=1, exit 0.
        #expect(try systemctl("stop", "retentiond.service").status == 0)
        #expect(try property("Result") == "success")
        #expect(try property("ActiveState") == "inactive")
        #expect(try property("ExecMainStatus") == "0")
    }
}
