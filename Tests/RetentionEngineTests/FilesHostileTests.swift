import CFileSystem
import Foundation
import GRDB
import Logging
import RetentionEngine
import RetentionRules
@testable import RetentionStores
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
import TestSupport
#endif

/// A files store in hostile surroundings: whoever can write below its root swaps directories for
/// links while a pass runs, forges the state database, leaves FIFOs, immutable files, record-locked
/// databases and names that look like log lines.
@Suite("Files store under attack", .serialized)
struct FilesHostileTests {
    static let rules = """
        version: 1
        defaults: {timezone: UTC}
        rules:
          logs:
            retain: 30d
            from: created_at
            then: delete
            basis: test
        """
    static let now = utc("2026-03-31 12:00:00")

    static func stores(_ extra: String = "") -> String {
        """
        version: 1
        stores:
          logs:
            kind: files
            path: logs
            match: "*.log"
            rules: [logs]
            fields: {created_at: mtime}
        \(extra)
        """
    }

    /// A due file (100 days old) at `path`.
    static func old(_ path: String) {
        #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8),
                                               attributes: [.modificationDate: now.addingTimeInterval(-100 * 86_400)]), "\(path)")
    }

    static func names(in directory: String) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
    }

    /// Swaps two names with renameat2(RENAME_EXCHANGE) every 2 ms on its own thread until stopped.
    final class Swapper: Sendable {
        let stop = Atomic<Bool>(false)
        let stopped = Atomic<Bool>(false)
        let swaps = Atomic<Int>(0)

        init(_ a: String, _ b: String) {
            Thread { [self] in
                while !stop.load(ordering: .relaxed) {
                    if rd_rename_exchange(AT_FDCWD, a, AT_FDCWD, b) == 0 { swaps.add(1, ordering: .relaxed) }
                    usleep(2_000)
                }
                stopped.store(true, ordering: .releasing)
            }.start()
        }

        /// Waits (up to a second) until more than `count` swaps have happened.
        func waitForSwap(after count: Int) {
            for _ in 0..<1_000 where swaps.load(ordering: .relaxed) <= count { usleep(1_000) }
        }

        func finish() {
            stop.store(true, ordering: .relaxed)
            while !stopped.load(ordering: .acquiring) { usleep(1_000) }
        }
    }

    @Test("a subdirectory swapped for a link to an outside directory every 2 ms: no outside file is deleted, and only what was deleted is counted")
    func swapRace() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores())
        let root = fixture.directory.path + "/logs", outside = fixture.directory.path + "/outside"
        try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let names = (0..<3_000).map { String(format: "f%04d.log", $0) }
        for name in names {
            Self.old(root + "/sub/" + name)
            Self.old(outside + "/" + name)
        }
        try FileManager.default.createSymbolicLink(atPath: root + "/swap", withDestinationPath: outside)

        let engine = try fixture.engine { $0.maxDeleteShare = 1; $0.batchSize = 20 }
        let swapper = Swapper(root + "/sub", root + "/swap")
        var done = 0
        for _ in 0..<3 {
            let report = try await engine.runPass(at: Self.now)
            done += report.finished.map(\.doneCount).reduce(0, +)
        }
        swapper.finish()
        #expect(swapper.swaps.load(ordering: .relaxed) > 100, "the swapper ran during the passes")

        #expect(Self.names(in: outside) == Set(names), "no file outside the root is deleted")
        // The real directory is under one of the two names, the link under the other.
        var info = stat()
        let real = lstat(root + "/sub", &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR ? root + "/sub" : root + "/swap"
        let left = Self.names(in: real)
        #expect(left.isSubset(of: Set(names)))
        #expect(done == names.count - left.count, "every file counted as deleted was deleted inside the root")
        #expect(left.count < names.count, "the passes deleted files at all")
    }

    @Test("the same swap against batches resolved component by component (kernels without openat2)")
    func swapRaceWithoutOpenat2() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores())
        let root = fixture.directory.path + "/logs", outside = fixture.directory.path + "/outside"
        try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let names = (0..<3_000).map { String(format: "f%04d.log", $0) }
        for name in names {
            Self.old(root + "/sub/" + name)
            Self.old(outside + "/" + name)
        }
        try FileManager.default.createSymbolicLink(atPath: root + "/swap", withDestinationPath: outside)
        let (connection, dataset) = try await Self.connect(fixture, useOpenat2: false)
        #expect(!connection.root.resolvesBeneath)
        let keys = names.map { RecordKey.text("sub/" + $0) }

        let swapper = Swapper(root + "/sub", root + "/swap")
        var removed: [RecordKey] = []
        for start in stride(from: 0, to: keys.count, by: 20) {
            removed += try await connection.apply(.delete, to: dataset, keys: Array(keys[start..<min(start + 20, keys.count)]), where: .always)
            // At least one swap between batches, however loaded the machine: the race is run, not hoped for.
            swapper.waitForSwap(after: start / 20)
        }
        swapper.finish()
        #expect(swapper.swaps.load(ordering: .relaxed) > 100)

        #expect(Self.names(in: outside) == Set(names), "no file outside the root is deleted")
        var info = stat()
        let real = lstat(root + "/sub", &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR ? root + "/sub" : root + "/swap"
        let left = Self.names(in: real)
        #expect(Set(removed.map { String($0.description.dropFirst(4)) }) == Set(names).subtracting(left), "exactly the keys of the files removed inside the root")
        #expect(!removed.isEmpty && !left.isEmpty, "the swap both let deletions through and stopped some")
    }

    @Test("a batch read back from the state database with a key leaving the root fails the job and touches nothing",
          arguments: ["../outside/victim.log", "x/../../outside/victim.log", "/OUTSIDE/victim.log", "./a.log", "x//a.log"])
    func forgedPendingKey(_ forged: String) async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores("    grace: 1d"))
        let root = fixture.directory.path + "/logs", outside = fixture.directory.path + "/outside"
        try FileManager.default.createDirectory(atPath: root + "/x", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        Self.old(root + "/a.log")
        Self.old(outside + "/victim.log")
        let key = forged.replacingOccurrences(of: "/OUTSIDE", with: outside)

        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        let first = try await engine.runPass(at: Self.now)
        let job = try #require(first.waiting.first, "planned, waiting for its grace window")
        // What a crash would leave, forged: a batch begun with a key that is no path below the root.
        try StateDatabase(path: fixture.statePath).beginBatch(of: job.id, keys: [.text("a.log"), .text(key)])
        let report = try await engine.runPass(at: Self.now.addingTimeInterval(2 * 86_400))
        let failed = try #require(report.finished.first { $0.id == job.id })
        #expect(failed.state == .failed && failed.reason?.contains("refusing key") == true, "\(failed.reason ?? "")")
        #expect(FileManager.default.fileExists(atPath: outside + "/victim.log"))
        #expect(FileManager.default.fileExists(atPath: root + "/a.log"), "a refused batch is not used at all")
    }

    @Test("a FIFO named like a due file is never opened, and the batch goes on")
    func fifoNotOpened() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores())
        let root = fixture.directory.path + "/logs"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        #expect(mkfifo(root + "/pipe.log", 0o644) == 0)
        Self.old(root + "/a.log")
        let watch = inotify_init1(Int32(IN_NONBLOCK))
        defer { close(watch) }
        #expect(inotify_add_watch(watch, root + "/pipe.log", UInt32(IN_OPEN)) >= 0)

        let (connection, dataset) = try await Self.connect(fixture)
        // Keys as a batch would list them had the FIFO replaced a file after the walk.
        let removed = try await connection.apply(.delete, to: dataset, keys: [.text("a.log"), .text("pipe.log")], where: .always)
        #expect(removed == [.text("a.log")])
        var buffer = [UInt8](repeating: 0, count: 4096)
        #expect(read(watch, &buffer, buffer.count) < 0 && errno == EAGAIN, "the FIFO was opened")
        #expect(FileManager.default.fileExists(atPath: root + "/pipe.log"))
    }

    @Test("a file that cannot be deleted is skipped and reported with its name escaped; the others are deleted and the job ends done")
    func undeletableFile() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores())
        let root = fixture.directory.path + "/logs"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/kept", withIntermediateDirectories: true)
        let forged = "kept/b.log\n2026-03-31T12:00:00Z notice retentiond: \u{1b}[32mall good\u{1b}[0m.log"
        for name in ["a.log", forged, "c.log"] { Self.old(root + "/" + name) }
        // Immutable (ext4, tmpfs and btrfs have the flag): not even root may unlink it. Another
        // user is refused by a directory it cannot write.
        if getuid() == 0 {
            #expect(Self.chattr("+i", root + "/" + forged), "chattr +i needs a file system with the flag")
        } else {
            #expect(chmod(root + "/kept", 0o555) == 0)
        }
        defer { _ = getuid() == 0 ? Self.chattr("-i", root + "/" + forged) : chmod(root + "/kept", 0o755) == 0 }

        let (connection, dataset) = try await Self.connect(fixture, logger: { capture in Logger(label: "test") { _ in capture } })
        let removed = try await connection.apply(.delete, to: dataset, keys: [.text("a.log"), .text(forged), .text("c.log")], where: .always)
        #expect(removed == [.text("a.log"), .text("c.log")])
        let lines = Self.capture.lines.withLock { $0 }
        let line = try #require(lines.first)
        #expect(line.message.contains("kept/b.log\\n2026-03-31T12:00:00Z notice retentiond: \\x1b[32mall good\\x1b[0m.log"), "\(line.message)")
        #expect(!line.message.contains("\n") && !line.message.contains("\u{1b}"))
        #expect(line.metadata["key"].map { "\($0)".contains("\n") } == false)

        // Through the engine: the job is done, not failed, and counts what it deleted.
        Self.old(root + "/d.log")
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.state) == [.done])
        #expect(report.finished.map(\.doneCount) == [1])
        #expect(Self.names(in: root) == ["kept"])
        #expect(Self.names(in: root + "/kept").count == 1)
    }

    @Test("a name that is not UTF-8 is never repaired into another file's name: skipped, reported once; its look-alike is deleted once and counted once")
    func nonUTF8Name() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores())
        let root = fixture.directory.path + "/logs"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // "caf\xE9.log" (Latin-1) and "caf\u{FFFD}.log", the name String(cString:) would repair it to.
        let latin1: [UInt8] = Array((root + "/caf").utf8) + [0xE9] + Array(".log".utf8) + [0]
        let descriptor = latin1.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o644) }
        #expect(descriptor >= 0)
        var times = [timespec(tv_sec: Int(Self.now.timeIntervalSince1970) - 100 * 86_400, tv_nsec: 0),
                     timespec(tv_sec: Int(Self.now.timeIntervalSince1970) - 100 * 86_400, tv_nsec: 0)]
        #expect(futimens(descriptor, &times) == 0)
        close(descriptor)
        Self.old(root + "/caf\u{FFFD}.log")
        Self.old(root + "/a.log")

        let capture = RuleKindsTests.Capture()
        let (connection, dataset) = try await Self.connect(fixture, logger: { _ in Logger(label: "test") { _ in capture } })
        #expect(try await connection.total(dataset) == 2)
        #expect(try await connection.total(dataset) == 2)
        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.state) == [.done])
        #expect(report.finished.map(\.doneCount) == [2], "a.log and the real caf\u{FFFD}.log, each once")
        let left = try FileManager.default.contentsOfDirectory(atPath: root)
        #expect(left.count == 1, "\(left)")
        let warnings = capture.lines.withLock { $0 }.filter { $0.message.contains("is not UTF-8") }
        #expect(warnings.count == 1, "\(warnings.map(\.message))")
        #expect(warnings.first?.metadata["event"].map { "\($0)" } == "record-skipped")
    }

    @Test("files held with POSIX record locks (a live SQLite database) or OFD locks are kept, as flock(2) locks are")
    func recordLocks() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores())
        let root = fixture.directory.path + "/logs"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for name in ["free.log", "ofd.log"] { Self.old(root + "/" + name) }
        // Another process holds a write transaction open on a live SQLite database: POSIX locks.
        let database = root + "/live.log"
        try Self.create(database)
        try FileManager.default.setAttributes([.modificationDate: Self.now.addingTimeInterval(-100 * 86_400)], ofItemAtPath: database)
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [database]
        let input = Pipe()
        sqlite.standardInput = input
        try sqlite.run()
        defer { try? input.fileHandleForWriting.close(); sqlite.waitUntilExit() }
        input.fileHandleForWriting.write(Data("BEGIN IMMEDIATE; INSERT INTO t VALUES (1);\n".utf8))
        let probe = open(database, O_RDONLY)
        defer { close(probe) }
        for _ in 0..<500 where rd_record_locked(probe) == 0 { usleep(10_000) }
        #expect(rd_record_locked(probe) == 1, "sqlite3 holds its lock")
        // An OFD lock on an open file description of this process.
        let holder = open(root + "/ofd.log", O_RDWR)
        defer { close(holder) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        #expect(fcntl(holder, 37 /* F_OFD_SETLK, which Glibc's module does not export */, &lock) == 0)

        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.doneCount) == [1])
        #expect(Self.names(in: root).isSuperset(of: ["live.log", "ofd.log"]))
        #expect(!Self.names(in: root).contains("free.log"))
    }

    @Test("a bind mount of the same file system below the root is not entered (mount id, as systemd-tmpfiles)",
          .enabled(if: getuid() == 0, "mount(8) needs root"))
    func bindMount() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores())
        let root = fixture.directory.path + "/logs", outside = fixture.directory.path + "/outside"
        try FileManager.default.createDirectory(atPath: root + "/bound", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        Self.old(root + "/a.log")
        Self.old(outside + "/victim.log")
        #expect(Self.run("/usr/bin/mount", "--bind", outside, root + "/bound"))
        defer { _ = Self.run("/usr/bin/umount", root + "/bound") }
        var inner = stat(), top = stat()
        #expect(lstat(root + "/bound", &inner) == 0 && lstat(root, &top) == 0 && inner.st_dev == top.st_dev, "same device")

        let engine = try fixture.engine { $0.maxDeleteShare = 1 }
        let report = try await engine.runPass(at: Self.now)
        #expect(report.finished.map(\.doneCount) == [1])
        #expect(FileManager.default.fileExists(atPath: outside + "/victim.log"))
        #expect(!FileManager.default.fileExists(atPath: root + "/a.log"))
    }

    @Test("directories are reached beneath the root with openat2 and, where the kernel lacks it, component by component: never through a link nor a mount",
          .enabled(if: getuid() == 0, "mount(8) needs root"), arguments: [true, false])
    func resolution(_ useOpenat2: Bool) throws {
        let directory = TemporaryDirectory()
        let root = directory.path + "/root", outside = directory.path + "/outside"
        for path in [root + "/a/b", root + "/bound", outside + "/b"] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: root + "/a/up", withDestinationPath: "..")
        #expect(Self.run("/usr/bin/mount", "--bind", outside, root + "/bound"))
        defer { _ = Self.run("/usr/bin/umount", root + "/bound") }
        let beneath = try DirectoryRoot(path: root, useOpenat2: useOpenat2)
        #expect(beneath.resolvesBeneath == useOpenat2)
        for good in [[], ["a"], ["a", "b"]] {
            let opened = beneath.openDirectory(good[...])
            #expect(opened != nil, "\(good)")
            if let opened { close(opened) }
        }
        for bad in [["link"], ["link", "b"], ["a", "up"], ["a", "up", "a"], ["bound"], ["bound", "b"], ["missing"]] {
            #expect(beneath.openDirectory(bad[...]) == nil, "\(bad)")
        }
        #expect(DirectoryRoot.components("a/b.log") == ["a", "b.log"])
        for bad in ["", "/a", "a/", "a//b", "./a", "a/./b", "..", "a/../b", "a\u{0}b"] {
            #expect(DirectoryRoot.components(bad) == nil, "\(bad)")
        }
    }

    @Test("a job resumed by a new process after its last batch's files are gone goes on after them, to the end")
    func resumeAfterDeletedLastKey() async throws {
        let fixture = Fixture(rules: Self.rules, stores: Self.stores())
        let root = fixture.directory.path + "/logs"
        // Names whose walk order differs from string order ("a/…" before "a.b/…"), all due.
        for directory in ["a", "a.b", "c"] {
            try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
            for index in 0..<4 { Self.old(root + "/\(directory)/f\(index).log") }
        }
        // The first process stops after one batch (as on SIGTERM; a SIGKILL leaves the same state
        // once the batch is settled): the job stays running, its last key deleted.
        let batches = Atomic<Int>(0)
        // Batches of 4: the last key is a/f3.log, and the next file a.b/f0.log, which a whole-string
        // comparison would put before it ('.' < '/').
        var first = try fixture.engine { $0.maxDeleteShare = 1; $0.batchSize = 4 }
        first.stopRequested = { batches.load(ordering: .relaxed) >= 1 }
        let stopped = try await first.runPass(at: Self.now) { _ in batches.add(1, ordering: .relaxed) }
        #expect(stopped.finished.isEmpty)
        let running = try first.database.jobs(in: [.running])
        #expect(running.map(\.doneCount) == [4])
        // A new process walks the tree afresh: the last key is not in its listing.
        let second = try fixture.engine { $0.maxDeleteShare = 1; $0.batchSize = 4 }
        let report = try await second.runPass(at: Self.now)
        #expect(report.finished.map(\.id) == running.map(\.id), "the same job finishes; no second job is needed")
        #expect(report.finished.map(\.doneCount) == [12])
        #expect(try second.database.jobs().count == 1)
        #expect(Self.names(in: root + "/a").isEmpty && Self.names(in: root + "/a.b").isEmpty && Self.names(in: root + "/c").isEmpty)
    }

    static let capture = RuleKindsTests.Capture()

    static func connect(_ fixture: Fixture, logger: (RuleKindsTests.Capture) -> Logger = { _ in Logger(label: "test") }, useOpenat2: Bool = true)
        async throws -> (FilesConnection, Dataset) {
        let rules = RuleSet.merge([(file: "rules.yaml", text: fixture.rulesText)])
        let stores = StoreSet.merge([(file: fixture.directory.path + "/stores.yaml", text: fixture.storesText)], rules: rules.ruleSet)
        let store = try #require(stores.storeSet["logs"])
        let dataset = try #require(store.datasets.first)
        let connection = try FilesConnection(store: store, root: StoreConnectors.resolve(store.path ?? "", for: store),
                                            logger: logger(capture), useOpenat2: useOpenat2)
        return (connection, dataset)
    }

    static func create(_ database: String) throws {
        let queue = try DatabaseQueue(path: database)
        try queue.write { try $0.execute(sql: "CREATE TABLE t (x)") }
    }

    static func chattr(_ flag: String, _ path: String) -> Bool { run("/usr/bin/chattr", flag, path) }

    static func run(_ program: String, _ arguments: String...) -> Bool {
        (try? ProgramRun.run(program, arguments, standardError: .discarded))?.status == 0
    }
}
