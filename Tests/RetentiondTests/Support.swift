import Foundation
import GRDB
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The built `retentiond`, a throwaway configuration with a real SQLite store, and a real
/// `NOTIFY_SOCKET` bound by the test: what systemd would give the daemon.
enum Support {
    static let repository = Repository.root

    /// The built `retentiond`, or the one `RETENTIOND` names.
    static var binary: String { BuiltProduct.path("retentiond", override: "RETENTIOND") }

    /// Runs a program to its end: its exit status and what it printed (stderr too, unless not wanted).
    static func run(_ arguments: [String], standardError: Bool = true) throws -> (status: Int32, output: String) {
        let run = try ProgramRun.run(arguments[0], Array(arguments.dropFirst()), standardError: standardError ? .merged : .discarded)
        return (run.status, run.stdout)
    }

    static func directory() throws -> String { try TemporaryDirectory.kept(prefix: "retentiond-test-") }

    /// SQLite's UTC text, to the second.
    static func sqliteText(_ date: Date) -> String { SQLiteText.seconds(date) }
}

/// A rules file, a stores file and `app.sqlite` with `events(id, created_at)`: rows with the given
/// ages. The rule `rule` deletes events 30 days after `created_at`.
struct Scenario {
    let directory: String
    let rule: String

    init(ages: [TimeInterval], rule: String = "events-30d", batchSize: Int = 1000, extraRules: String = "") throws {
        directory = try Support.directory()
        self.rule = rule
        try """
            version: 1
            defaults:
              timezone: UTC
            rules:
              \(rule):
                from: created_at
                retain: 30d
                then: delete
                basis: test
            \(extraRules)
            """.write(toFile: rulesPath, atomically: true, encoding: .utf8)
        try """
            version: 1
            stores:
              app:
                kind: sqlite
                path: app.sqlite
                datasets:
                  events:
                    table: events
                    key: id
                    rules: [\(rule)]
                    fields: { created_at: created_at }
                    batch-size: \(batchSize)
                    max-delete-share: 100%
            """.write(toFile: storesPath, atomically: true, encoding: .utf8)
        let queue = try DatabaseQueue(path: databasePath)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE events (id INTEGER PRIMARY KEY, created_at TEXT); CREATE INDEX events_created ON events(created_at)")
            let now = Date()
            let insert = try db.makeStatement(sql: "INSERT INTO events (id, created_at) VALUES (?, ?)")
            for (index, age) in ages.enumerated() {
                try insert.execute(arguments: [index + 1, Support.sqliteText(now.addingTimeInterval(-age))])
            }
        }
        try queue.close()
    }

    var rulesPath: String { directory + "/rules.yaml" }
    var storesPath: String { directory + "/stores.yaml" }
    var databasePath: String { directory + "/app.sqlite" }
    var statePath: String { directory + "/state.sqlite" }

    var arguments: [String] { ["--rules", rulesPath, "--stores", storesPath, "--state", statePath, "--init"] }

    func rows() throws -> Int {
        let queue = try DatabaseQueue(path: databasePath)
        defer { try? queue.close() }
        return try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? -1 }
    }

    /// (state, done_count) of every job, in id order.
    func jobs() throws -> [(state: String, done: Int)] {
        guard FileManager.default.fileExists(atPath: statePath) else { return [] }
        let queue = try DatabaseQueue(path: statePath)
        defer { try? queue.close() }
        return try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT state, done_count FROM job ORDER BY id").map { ($0[0], $0[1]) }
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// A running `retentiond`, its stderr in a file.
final class Daemon {
    let process = Process()
    let log: String

    init(_ arguments: [String], environment: [String: String] = [:], log: String) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: Support.binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "LISTEN_FDS"] { env[key] = nil }
        env.merge(environment) { _, new in new }
        process.environment = env
        let handle = FileHandle(forWritingAtPath: log)
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func signal(_ number: Int32) { kill(pid, number) }

    /// The exit status, or nil if it did not exit within `seconds` (it is then killed).
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits until the log contains `text`.
    func waitForOutput(_ text: String, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if output.contains(text) { return true }
            usleep(20_000)
        }
        return false
    }

    deinit {
        if process.isRunning { kill(pid, SIGKILL); process.waitUntilExit() }
    }
}

/// An `AF_UNIX` datagram socket, as systemd binds for `NOTIFY_SOCKET=`.
final class NotifySocket {
    let path: String
    let fd: Int32

    init(directory: String) throws {
        path = directory + "/notify.sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            for (index, byte) in path.utf8.prefix(bytes.count - 1).enumerated() { bytes[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EINVAL) }
    }

    /// The next datagram, or nil after `seconds`.
    func receive(seconds: Double) -> String? {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(seconds * 1000)) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    /// Messages until one satisfies `predicate` (returned), all of them collected in `seen`.
    func receive(until predicate: (String) -> Bool, seconds: Double, seen: inout [String]) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard let message = receive(seconds: deadline.timeIntervalSinceNow) else { return nil }
            seen.append(message)
            if predicate(message) { return message }
        }
        return nil
    }

    deinit {
        close(fd)
        unlink(path)
    }
}

extension String {
    /// The assignments of a notification: `READY=1\nSTATUS=x` → ["READY": "1", "STATUS": "x"].
    var assignments: [String: String] {
        Dictionary(split(separator: "\n").compactMap { line in
            line.firstIndex(of: "=").map { (String(line[..<$0]), String(line[line.index(after: $0)...])) }
        }, uniquingKeysWith: { _, last in last })
    }
}
