import Foundation
import Testing
#if canImport(Glibc)
import Glibc
import TestSupport
#endif

/// A command store's deadline, timed on `retentionctl plan` in a process of its own: the time
/// measured is the tool's, not that of a test process whose thread pool other suites keep busy.
@Suite("Command store deadlines in retentionctl")
struct CommandStoreDeadlineTests {
    @Test("a 2 s timeout ends the plan in about 2 s although a grandchild holds the pipes; the grandchild dies with its group")
    func deadline() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retentionctl-command-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
            #!/bin/sh
            cat > /dev/null
            sleep 120 &
            echo $! > \(directory)/grandchild
            sleep 120
            """.write(toFile: directory + "/program", atomically: true, encoding: .utf8)
        chmod(directory + "/program", 0o755)
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
                timeout: 2
                datasets:
                  events: {rules: [logs], fields: {created_at: ts}}
            """.write(toFile: directory + "/stores.yaml", atomically: true, encoding: .utf8)
        let started = Date()
        let run = try RetentionCtlTests.run(["plan", "--rules", directory + "/rules.yaml", "--stores", directory + "/stores.yaml",
                                             "--state", directory + "/state.sqlite", "--init"])
        let seconds = Date().timeIntervalSince(started)
        #expect(run.status != 0)
        #expect(run.stderr.contains("(count request for dataset events) was stopped after its timeout of 2 s"), "\(run.stderr)")
        #expect(seconds < 8, "took \(seconds) s")
        let grandchild = Int32((try? String(contentsOfFile: directory + "/grandchild", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(grandchild > 0)
        let stat = (try? String(contentsOfFile: "/proc/\(grandchild)/stat", encoding: .utf8)) ?? ""
        let state = stat.lastIndex(of: ")").map { stat[stat.index($0, offsetBy: 2)] }
        #expect(state == nil || state == "Z", "the grandchild is gone: \(stat)")
        if state != nil, state != "Z" { kill(grandchild, SIGKILL) }
    }
}
