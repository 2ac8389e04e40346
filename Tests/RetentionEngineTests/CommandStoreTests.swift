import Foundation
import RetentionEngine
import RetentionRules
import RetentionStores
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
import TestSupport
#endif

/// Command stores against hostile programs: real child processes (small shell scripts written
/// here), real pipes and signals, each attack performed against the real connector.
///
/// Time bounds here are loose: other suites' synchronous tests can hold every thread of this
/// process's cooperative pool for minutes, and no async code returns on time then. The tight
/// bounds are checked where a process has its pool to itself: `retentionctl plan` in
/// CommandStoreDeadlineTests, retentiond in CommandWatchdogTests; the heartbeat test below judges
/// gaps only when a reference ticker saw the pool free.
@Suite("Command stores against hostile programs", .serialized)
struct CommandStoreTests {
    /// A command store whose program is `script`, reached through `StoreConnectors` as the engine does.
    struct Bench {
        let directory = TemporaryDirectory()
        let store: Store

        /// `readsRequest`: the script starts by reading its whole request into `$DIR/request`, as
        /// the protocol asks (one that does not may be caught at it, the larger the request the surer).
        init(script: String, timeout: Int = 120, readsRequest: Bool = true) throws {
            let program = directory.path + "/program"
            try ("#!/bin/sh\n" + (readsRequest ? "cat > $DIR/request\n" : "") + script)
                .replacingOccurrences(of: "$DIR", with: directory.path)
                .write(toFile: program, atomically: true, encoding: .utf8)
            chmod(program, 0o755)
            let rules = RuleSet.merge([(file: "rules.yaml", text: """
                version: 1
                defaults: {timezone: UTC}
                rules:
                  logs: {retain: 30d, from: created_at, then: delete, basis: test}
                """)])
            let stores = StoreSet.merge([(file: directory.path + "/stores.yaml", text: """
                version: 1
                stores:
                  vendor:
                    kind: command
                    exec: program
                    timeout: \(timeout)
                    datasets:
                      events: {rules: [logs], fields: {created_at: ts}}
                """)], rules: rules.ruleSet)
            #expect(!stores.diagnostics.hasErrors, "\(stores.diagnostics.errors)")
            store = try #require(stores.storeSet.stores.first)
        }

        var dataset: Dataset { store.datasets[0] }

        /// One count request; what it threw, if anything, and how long it took.
        func count(_ predicate: RecordPredicate = .always) async throws -> (result: Result<Int, any Error>, seconds: Double) {
            let connection = try await StoreConnectors().connect(to: store)
            let started = Date()
            do {
                let count = try await connection.count(dataset, where: predicate)
                return (.success(count), Date().timeIntervalSince(started))
            } catch {
                return (.failure(error), Date().timeIntervalSince(started))
            }
        }

        func file(_ name: String) -> String { (try? String(contentsOfFile: directory.path + "/" + name, encoding: .utf8)) ?? "" }
    }

    static func message(_ result: Result<Int, any Error>) -> String {
        if case .failure(let error) = result { "\(error)" } else { "no error" }
    }

    /// The longest stall of a 20 ms sleep, ticking until `until`: near 0.02 s on a free pool.
    static func longestStall(until: Date) async -> Double {
        var longest = 0.0
        while Date() < until {
            let before = Date()
            try? await Task.sleep(for: .milliseconds(20))
            longest = max(longest, Date().timeIntervalSince(before))
        }
        return longest
    }

    /// Whether `pid` is a live process (not gone, not a zombie waiting for its reaper).
    /// Whether `pid` is gone within 10 s.
    static func dies(_ pid: Int32) -> Bool {
        for _ in 0..<200 where alive(pid) { usleep(50_000) }
        return !alive(pid)
    }

    static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    @Test("the program sees only PATH and LANG (no $CREDENTIALS_DIRECTORY, nothing else of retentiond's environment), and no descriptor of ours")
    func environment() async throws {
        // What systemd gives retentiond with LoadCredential=; the test process stands in for it.
        setenv("CREDENTIALS_DIRECTORY", "/run/credentials/retentiond.service", 1)
        setenv("RETENTIOND_TEST_SECRET", "hunter2", 1)
        let bench = try Bench(script: """
            env > $DIR/environment
            ls -l /proc/$$/fd > $DIR/descriptors
            echo '{"count": 0}'
            """)
        // A descriptor of retentiond's opened without O_CLOEXEC (a library's, say) must not reach it either.
        let secret = bench.directory.path + "/secret-file"
        _ = FileManager.default.createFile(atPath: secret, contents: Data("key".utf8))
        let leaked = open(secret, O_RDONLY)
        defer { close(leaked) }
        let (result, _) = try await bench.count()
        #expect(try result.get() == 0)
        let names = Set(bench.file("environment").split(separator: "\n").map { String($0.prefix { $0 != "=" }) })
        #expect(!names.contains("CREDENTIALS_DIRECTORY"))
        #expect(!names.contains("RETENTIOND_TEST_SECRET"))
        // The shell adds PWD itself (and it is /); nothing else may appear.
        #expect(names.subtracting(["PWD"]) == ["PATH", "LANG"], "\(bench.file("environment"))")
        #expect(bench.file("environment").contains("PATH=/usr/local/bin:/usr/bin:/bin\n"))
        #expect(bench.file("environment").contains("PWD=/\n"))
        #expect(bench.file("request").contains(#""operation":"count""#), "the request itself still arrives")
        #expect(leaked >= 3 && !bench.file("descriptors").contains("secret-file"), "\(bench.file("descriptors"))")
    }

    @Test("a 2 s timeout holds although a grandchild keeps the pipes open; the whole process group is killed")
    func deadlineKillsTheGroup() async throws {
        let bench = try Bench(script: """
            sleep 300 &
            echo $! > $DIR/grandchild
            sleep 300
            """, timeout: 2)
        let (result, seconds) = try await bench.count()
        #expect(Self.message(result).contains("was stopped after its timeout of 2 s"), "\(Self.message(result))")
        #expect(seconds >= 1.9 && seconds < 150, "took \(seconds) s (the old connector waited for the grandchild's 300 s)")
        let grandchild = try #require(Int32(bench.file("grandchild").trimmingCharacters(in: .whitespacesAndNewlines)))
        // A signal is delivered when the process next runs: on a loaded machine, a moment later.
        #expect(Self.dies(grandchild), "the grandchild was killed with its group")
    }

    @Test("a program that ignores SIGTERM gets SIGKILL after the grace; one that left the group cannot hold the call")
    func deadlineWithStubbornPrograms() async throws {
        let bench = try Bench(script: """
            trap '' TERM
            setsid sleep 300 &
            echo $! > $DIR/escaped
            sleep 300
            """, timeout: 2)
        let (result, seconds) = try await bench.count()
        if let escaped = Int32(bench.file("escaped").trimmingCharacters(in: .whitespacesAndNewlines)) { kill(escaped, SIGKILL) }
        #expect(Self.message(result).contains("was stopped after its timeout of 2 s (SIGTERM to its process group, SIGKILL 5 s later)"),
                "\(Self.message(result))")
        #expect(seconds >= 6.9 && seconds < 150, "took \(seconds) s: 2 s, then 5 s of grace")
    }

    @Test("a program that exits without reading a 6 MB request neither kills retentiond (SIGPIPE) nor passes")
    func unreadRequest() async throws {
        let bench = try Bench(script: """
            echo '{"count": 1}'
            exit 0
            """, readsRequest: false)
        let keys = (0..<400_000).map { RecordKey.text("some-long-key-\($0)") }
        let (result, seconds) = try await bench.count(.keyNotIn(column: "id", keys: keys))
        let message = Self.message(result)
        #expect(message.contains("store 'vendor':") && message.contains("(count request for dataset events) exited without reading its whole request"),
                "\(message)")
        #expect(seconds < 150, "took \(seconds) s (most of it encoding the request in a debug build)")
    }

    @Test("endless output stops at 16 MiB: the group is killed and the call fails at once")
    func endlessOutput() async throws {
        let bench = try Bench(script: "exec yes", timeout: 60)
        let (result, seconds) = try await bench.count()
        #expect(Self.message(result).contains("wrote a reply larger than 16777216 bytes on stdout; its process group was killed"),
                "\(Self.message(result))")
        #expect(seconds < 150, "took \(seconds) s")
    }

    @Test("endless stderr keeps its last 2000 bytes only, and the deadline still holds")
    func endlessErrors() async throws {
        let bench = try Bench(script: "yes 'disk on fire' >&2", timeout: 2)
        let (result, seconds) = try await bench.count()
        #expect(Self.message(result).contains("timeout of 2 s"), "\(Self.message(result).prefix(300))")
        #expect(seconds < 150)

        let failing = try Bench(script: "head -c 3000000 /dev/zero | tr '\\0' x >&2; echo last words >&2; exit 4")
        let (failed, _) = try await failing.count()
        let message = Self.message(failed)
        #expect(message.contains("exited with status 4: xxx") && message.hasSuffix("xxxlast words"), "\(message.suffix(200))")
        #expect(message.utf8.count < 2300, "\(message.utf8.count) bytes")
    }

    @Test("a death by signal is reported as such, not as a timeout", arguments: [("SEGV", "11 (SIGSEGV)"), ("KILL", "9 (SIGKILL)")])
    func signalDeath(signal: String, shown: String) async throws {
        let bench = try Bench(script: "kill -\(signal) $$", timeout: 30)
        let (result, seconds) = try await bench.count()
        let message = Self.message(result)
        #expect(message.contains("was killed by signal \(shown)"), "\(message)")
        #expect(!message.contains("timeout"))
        #expect(seconds < 150)
    }

    @Test("a bad reply is a located error")
    func badReply() async throws {
        let bench = try Bench(script: #"printf '{"count": 3,\n "total": 1.5}'"#)
        let (result, _) = try await bench.count()
        #expect(Self.message(result).hasSuffix(
            "(count request for dataset events) did not answer with one JSON object on stdout: line 2, column 11: expected a whole number from 0 for \"total\", found 1.5"),
            "\(Self.message(result))")
    }

    @Test("a program that cannot be started is a store error, not a crash")
    func cannotStart() async throws {
        let bench = try Bench(script: "")
        chmod(bench.directory.path + "/program", 0o644)
        let (result, _) = try await bench.count()
        #expect(Self.message(result).contains("cannot be started"), "\(Self.message(result))")
    }

    @Test("waiting parks no thread: while 10 programs run, no thread of ours is blocked reading their pipes")
    func noBlockingReads() async throws {
        let bench = try Bench(script: """
            echo $$ > $DIR/pid.$$
            i=0
            while [ ! -e $DIR/release ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
            echo '{"count": 7}'
            """)
        let calls = Task {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<10 { group.addTask { try await bench.count().result.get() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        func pids() -> [Substring] {
            ((try? FileManager.default.contentsOfDirectory(atPath: bench.directory.path)) ?? []).filter { $0.hasPrefix("pid.") }.map { $0.dropFirst(4) }
        }
        while pids().count < 10 { try await Task.sleep(for: .milliseconds(20)) }
        // The programs' stdout and stderr pipes, as /proc names them (pipe:[inode]). (The programs
        // give up waiting after 10 s: a pool whose threads all block in reads gets here only then,
        // and finds them gone.)
        var pipes: Set<String> = []
        for pid in pids() {
            for fd in [1, 2] {
                if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)") { pipes.insert(link) }
            }
        }
        #expect(pipes.count == 20, "\(pipes)")
        // Each of our threads: the call it is blocked in (read is 0 on x86-64, 63 on arm64) and on
        // which descriptor; a few samples, since a thread may be between two reads.
        #if arch(arm64)
        let read = "63"
        #else
        let read = "0"
        #endif
        var blocked: Set<String> = []
        for _ in 0..<10 {
            for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? [] {
                let fields = ((try? String(contentsOfFile: "/proc/self/task/\(task)/syscall", encoding: .utf8)) ?? "").split(separator: " ")
                guard fields.count > 1, fields[0] == read, let fd = Int(fields[1].dropFirst(2), radix: 16),
                      let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"), pipes.contains(link)
                else { continue }
                blocked.insert("thread \(task) in read(\(fd)) on \(link)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = FileManager.default.createFile(atPath: bench.directory.path + "/release", contents: nil)
        #expect(try await calls.value == Array(repeating: 7, count: 10))
        #expect(blocked.isEmpty, "\(blocked.sorted())")
    }

    @Test("a pass waiting on a long command call beats the engine's heartbeat all along")
    func heartbeat() async throws {
        let fixture = Fixture(rules: """
            version: 1
            defaults: {timezone: UTC}
            rules:
              logs: {retain: 30d, from: created_at, then: delete, basis: test}
            """, stores: """
            version: 1
            stores:
              vendor:
                kind: command
                exec: program
                timeout: 30
                datasets:
                  events: {rules: [logs], fields: {created_at: ts}}
            """)
        try "#!/bin/sh\ncat > /dev/null\nsleep 3\necho '{\"count\": 0}'\n".write(toFile: fixture.directory.path + "/program", atomically: true, encoding: .utf8)
        chmod(fixture.directory.path + "/program", 0o755)
        final class Beats: Sendable { let times = Mutex<[Date]>([]) }
        let beats = Beats()
        var engine = try fixture.engine()
        engine.heartbeat = { beats.times.withLock { $0.append(Date()) } }
        let started = Date()
        async let stall = Self.longestStall(until: started.addingTimeInterval(3))
        _ = try await engine.runPass(at: Date())
        let times = beats.times.withLock { $0 }
        #expect(!times.isEmpty)
        let referenceStall = await stall
        guard referenceStall < 0.3 else {
            print("note: a reference ticker stalled \(referenceStall) s (other suites hold the pool); beat gaps not judged")
            return
        }
        #expect(times.count >= 5, "\(times.count) beats in \(Date().timeIntervalSince(started)) s")
        // No gap longer than a watchdog of 1 s would tolerate, from the start to the end of the call.
        let gaps = zip(times.dropFirst(), times).map { $0.timeIntervalSince($1) }
        #expect(gaps.allSatisfy { $0 < 0.9 }, "\(gaps)")
        #expect(times.last.map { $0.timeIntervalSince(started) > 2.5 } == true)
    }
}
