import Foundation
import Logging
import RetentionEngine
import RetentionRules
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A directory of files, the way systemd-tmpfiles treats one: walked in name order, never
/// following symbolic links, never leaving the root's file system, skipping files another process
/// holds locked. Keys are paths relative to the root; a file's record is its times.
///
/// Every name is resolved beneath the root's descriptor (`DirectoryRoot`), never as a path string.
final class FilesConnection: BatchWriter {
    let store: Store
    let root: DirectoryRoot
    /// Where a file that cannot be deleted is reported (and the job goes on).
    let logger: Logger
    /// Directories a purge emptied files from, to remove at the end of the job when asked.
    let touchedDirectories = Mutex<Set<String>>([])
    /// Per dataset: the last whole walk (`snapshot(_:needsBirth:)`), and where the last batch
    /// taken from it stopped.
    let snapshots = Mutex<[String: Snapshot]>([:])
    let cursors = Mutex<[String: (key: String, index: Int)]>([:])
    /// Datasets whose tree holds names that are not UTF-8, already reported by this connection (a pass).
    let reportedUnnamable = Mutex<Set<String>>([])

    init(store: Store, root: String, logger: Logger = Logger(label: "retentiond.files"), useOpenat2: Bool = true) throws {
        self.store = store
        self.logger = logger
        let path = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        do {
            self.root = try DirectoryRoot(path: path, useOpenat2: useOpenat2)
        } catch {
            throw StoreError(store: store.id, message: "\(error)")
        }
    }

    var device: UInt64 { root.device }

    /// A file's times are native dates; a rule's condition compares them as SQLite would compare
    /// the same times, so that every store is held to one model (`RecordDecision`).
    static let codec = SQLiteCodec()
    var codec: any StoreCodec { Self.codec }

    /// A file's times, keyed as a files dataset maps them.
    static func record(_ info: stat, birth: Date?) -> [String: StoreValue] {
        record(FileTimes(info, birth: birth))
    }

    static func record(_ times: FileTimes) -> [String: StoreValue] {
        ["mtime": .date(Date(microsecondsSince1970: times.mtime)), "ctime": .date(Date(microsecondsSince1970: times.ctime)),
         "birthtime": times.birth.map { .date(Date(microsecondsSince1970: $0)) } ?? .null]
    }

    /// Birth time where the file system records it (statx), else nil: a rule counting from it
    /// treats such files as not yet started, never as due.
    static func birthTime(_ path: String) -> Date? {
        DirectoryRoot.birthTime(AT_FDCWD, path)
    }

    func matches(_ name: Substring, _ dataset: Dataset) -> Bool {
        guard let pattern = dataset.match else { return true }
        return fnmatch(pattern, String(name), 0) == 0
    }

    /// The components of a key the store is asked about, refusing one that is not a plain path
    /// below the root: such a key did not come from a walk (a state database written by hand).
    func components(_ key: RecordKey) throws -> [String] {
        guard let components = DirectoryRoot.components(key.description) else {
            throw StoreError(store: store.id, message: "refusing key \(KeyText.escaped(key.description)): not a path below \(root.path)")
        }
        return components
    }

    /// The file's record if it is a regular file on the root's file system matching the pattern,
    /// looked at (fstatat, never opened) in its directory reached beneath the root.
    func candidate(_ components: [String], _ dataset: Dataset, needsBirth: Bool, in parents: inout ParentDirectories) -> [String: StoreValue]? {
        guard let name = components.last, matches(Substring(name), dataset),
              let directory = parents.open(components.dropLast()) else { return nil }
        var info = stat()
        guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFREG,
              UInt64(info.st_dev) == device else { return nil }
        return Self.record(info, birth: needsBirth ? DirectoryRoot.birthTime(directory, name) : nil)
    }

    /// Walks the tree in name order (component by component), after `after`, calling `visit` with
    /// each matching file until it returns false.
    ///
    /// Directory by directory through descriptors (openat, fstatat), as find(1) does: no path is
    /// resolved from the root again, and each entry is looked at once. The directory entry's type
    /// lets a file whose name does not match go without a stat.
    func walk(_ dataset: Dataset, after: RecordKey?, needsBirth: Bool, visit: (String, FileTimes) -> Bool) {
        let start = after.map { $0.description.split(separator: "/").map(String.init) } ?? []
        guard let descriptor = root.openDirectory([]) else { return }
        _ = walkDirectory(descriptor, "", dataset, after: start, needsBirth: needsBirth, visit: visit)
    }

    /// Walks the directory open on `descriptor` (and closes it).
    private func walkDirectory(_ descriptor: Int32, _ relative: String, _ dataset: Dataset, after: [String], needsBirth: Bool,
                               visit: (String, FileTimes) -> Bool) -> Bool {
        guard let handle = fdopendir(descriptor) else {
            Glibc.close(descriptor)
            return true
        }
        defer { closedir(handle) }
        var entries: [(name: String, type: UInt8)] = []
        while let entry = readdir(handle) {
            // A name that is not UTF-8 cannot be a key (nor be named in the audit): it is reported,
            // never repaired into a name that stands for no file or for another one.
            guard let name = withUnsafePointer(to: entry.pointee.d_name, {
                String(validatingCString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }) else {
                reportUnnamable(in: dataset, below: relative)
                continue
            }
            if name != "." && name != ".." { entries.append((name, entry.pointee.d_type)) }
        }
        // Byte order, as strcmp: the generic UTF-8 view comparison costs more than the walk.
        entries.sort { a, b in a.name.withCString { x in b.name.withCString { y in strcmp(x, y) < 0 } } }
        for (name, type) in entries {
            var remaining: [String] = []
            if let first = after.first {
                if name.utf8.lexicographicallyPrecedes(first.utf8) { continue }
                if name == first {
                    remaining = Array(after.dropFirst())
                    if remaining.isEmpty { continue }   // the last key itself: done already
                }
            }
            // Known from the entry: a symbolic link, socket or device is never followed nor
            // touched, and a regular file the pattern rejects needs no stat.
            if type != UInt8(DT_UNKNOWN), type != UInt8(DT_DIR), type != UInt8(DT_REG) { continue }
            if type == UInt8(DT_REG), !matches(Substring(name), dataset) { continue }
            var info = stat()
            guard fstatat(dirfd(handle), name, &info, AT_SYMLINK_NOFOLLOW) == 0, UInt64(info.st_dev) == device else { continue }
            let child = relative.isEmpty ? name : relative + "/" + name
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                let inner = openat(dirfd(handle), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard inner >= 0 else { continue }
                // A bind mount of the root's own file system has its device: the mount id tells.
                guard root.contains(inner) else { Glibc.close(inner); continue }
                if !walkDirectory(inner, child, dataset, after: remaining, needsBirth: needsBirth, visit: visit) { return false }
            case S_IFREG:
                guard remaining.isEmpty, type == UInt8(DT_REG) || matches(Substring(name), dataset) else { continue }
                if !visit(child, FileTimes(info, birth: needsBirth ? DirectoryRoot.birthTime(dirfd(handle), name) : nil)) { return false }
            default:
                continue
            }
        }
        return true
    }

    func needsBirth(_ predicate: RecordPredicate) -> Bool { predicate.columns.contains("birthtime") }

    /// `predicate` on a file: the common shapes (times before a cutoff, and their AND) straight on
    /// its times; anything else (a rule's condition) on the record the predicate language knows.
    /// A purge evaluates it for every file of the tree.
    static func evaluate(_ predicate: RecordPredicate, _ times: FileTimes, key: String) -> Bool? {
        func time(_ column: String) -> Int64? {
            switch column {
            case "mtime": times.mtime
            case "ctime": times.ctime
            case "birthtime": times.birth
            default: nil
            }
        }
        switch predicate {
        case .always: return true
        case .never: return false
        case .before(let columns, let cutoff):
            // As RecordPredicate.evaluate: true when some column is before the cutoff (compared in
            // whole microseconds), unknown when none is and some is missing.
            // A time before year 1 is a bad value, never due; FileTimes.micros saturates beyond ±292,000 years.
            let limit = cutoff.microsecondsSince1970, floor = RepresentableInstants.earliest.microsecondsSince1970
            var result: Bool? = false
            for column in columns {
                guard let micros = time(column) else { result = nil; continue }
                if micros < limit && micros >= floor { return true }
            }
            return result
        case .and(let items):
            var result: Bool? = true
            for item in items {
                switch evaluate(item, times, key: key) {
                case false?: return false
                case nil: result = nil
                case true?: continue
                }
            }
            return result
        default:
            return predicate.evaluate(record(times), key: .text(key), paths: true, codec: Self.codec)
        }
    }

    /// The files of the dataset with their times, from one walk: kept from the first whole walk
    /// of a pass until a job on the dataset ends, so that planning (count, total, next due) and
    /// the job's batches do not walk the tree again each. Only the listing is trusted: a file is
    /// looked at again (fstat on the open file) before it is deleted. Nil beyond `snapshotLimit`
    /// files, where it would cost more memory than the walks cost time.
    func snapshot(_ dataset: Dataset, needsBirth: Bool) -> Snapshot? {
        if let existing = snapshots.withLock({ $0[dataset.id] }), existing.hasBirth || !needsBirth { return existing }
        var snapshot = Snapshot(hasBirth: needsBirth)
        var complete = true
        walk(dataset, after: nil, needsBirth: needsBirth) { relative, times in
            guard snapshot.files.count < Self.snapshotLimit else { complete = false; return false }
            snapshot.add(relative, times)
            return true
        }
        guard complete else { return nil }
        snapshots.withLock { $0[dataset.id] = snapshot }
        return snapshot
    }

    static let snapshotLimit = 500_000

    /// Calls `visit` with every file matching `predicate` (after `after`), from the snapshot when
    /// there is one, else walking. The record is only built when the predicate reads it.
    func each(_ dataset: Dataset, where predicate: RecordPredicate, after: RecordKey? = nil, visit: (String, FileTimes) -> Bool) {
        let birth = needsBirth(predicate)
        func selected(_ key: String, _ times: FileTimes) -> Bool {
            Self.evaluate(predicate, times, key: key) == true
        }
        guard let snapshot = snapshot(dataset, needsBirth: birth) else {
            walk(dataset, after: after, needsBirth: birth) { relative, times in
                !selected(relative, times) || visit(relative, times)
            }
            return
        }
        var index = 0
        if let after {
            let key = after.description
            // The last key is usually gone from a snapshot walked since (a job resumed after a
            // crash or a stop: its last batch deleted it): start at the first file after it in
            // the walk's order, as walk(after:) does, not at the end, which ended the job early.
            index = cursors.withLock { $0[dataset.id]?.key == key ? $0[dataset.id]!.index : nil }
                ?? snapshot.firstIndex(after: key)
        }
        while index < snapshot.files.count {
            let key = snapshot.key(at: index), times = snapshot.files[index].times
            index += 1
            if selected(key, times), !visit(key, times) {
                cursors.withLock { $0[dataset.id] = (key, index) }
                return
            }
        }
    }

    func count(_ dataset: Dataset, where predicate: RecordPredicate) async throws -> Int {
        var count = 0
        each(dataset, where: predicate) { _, _ in count += 1; return true }
        return count
    }

    func total(_ dataset: Dataset) async throws -> Int {
        var count = 0
        each(dataset, where: .always) { _, _ in count += 1; return true }
        return count
    }

    func keys(_ dataset: Dataset, where predicate: RecordPredicate, from start: BatchStart, limit: Int) async throws -> [RecordKey] {
        // Always in name order: a locked file is skipped and still matches.
        let after: RecordKey? = if case .after(let key) = start { key } else { nil }
        var keys: [RecordKey] = []
        each(dataset, where: predicate, after: after) { relative, _ in
            keys.append(.text(relative))
            return keys.count < limit
        }
        return keys
    }

    func matching(_ dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey] {
        // All refused before any is looked at: a batch read back from the state database is whole
        // or not used.
        let paths = try keys.map { try components($0) }
        var parents = ParentDirectories(root: root)
        let birth = needsBirth(predicate)
        var matching: [RecordKey] = []
        for (key, components) in zip(keys, paths)
        where candidate(components, dataset, needsBirth: birth, in: &parents).flatMap({ predicate.evaluate($0, key: key, paths: true, codec: Self.codec) }) == true {
            matching.append(key)
        }
        return matching
    }

    func apply(_ change: Change, to dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey] {
        guard case .delete = change else {
            throw StoreError(store: store.id, message: "files can only be deleted")
        }
        let paths = try keys.map { try components($0) }
        var removed: [RecordKey] = []
        let birth = needsBirth(predicate)
        var parents = ParentDirectories(root: root)
        for (key, components) in zip(keys, paths) {
            guard let name = components.last, matches(Substring(name), dataset) else { continue }
            // The directory is reached beneath the root: a component swapped for a link fails here,
            // and the file waits for the next pass.
            guard let directory = parents.open(components.dropLast()) else { continue }
            // Its type is known before it is opened: a FIFO or a device is never opened.
            var judged = stat()
            guard fstatat(directory, name, &judged, AT_SYMLINK_NOFOLLOW) == 0, (judged.st_mode & S_IFMT) == S_IFREG,
                  UInt64(judged.st_dev) == device else { continue }
            let descriptor = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { Glibc.close(descriptor) }
            // Judged on what is open, which must be what the name stood for.
            var info = stat()
            guard fstat(descriptor, &info) == 0, Self.same(info, judged) else { continue }
            let times = FileTimes(info, birth: birth ? DirectoryRoot.birthTime(descriptor, "") : nil)
            guard Self.evaluate(predicate, times, key: key.description) == true else { continue }
            // In use: another process holds a BSD lock, or a POSIX or OFD record lock (SQLite's):
            // skipped, as systemd-tmpfiles does.
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0, !DirectoryRoot.recordLocked(descriptor) else { continue }
            // The name still stands for the file judged, in the directory judged.
            var current = stat()
            guard fstatat(directory, name, &current, AT_SYMLINK_NOFOLLOW) == 0, Self.same(current, info) else { continue }
            guard unlinkat(directory, name, 0) == 0 else {
                let code = errno
                if code != ENOENT { skipped(key, dataset, reason: DirectoryRoot.describe(code)) }
                continue
            }
            removed.append(key)
            if dataset.removeEmptyDirectories, components.count > 1 {
                let parent = components.dropLast().joined(separator: "/")
                touchedDirectories.withLock { _ = $0.insert(parent) }
            }
        }
        return removed
    }

    static func same(_ a: stat, _ b: stat) -> Bool {
        a.st_dev == b.st_dev && a.st_ino == b.st_ino && (a.st_mode & S_IFMT) == (b.st_mode & S_IFMT)
    }

    /// A file the store cannot delete (immutable, a read-only mount, a busy mount point) stops
    /// neither the job nor the pass: it is reported, stays, and is tried again by the next pass.
    func skipped(_ key: RecordKey, _ dataset: Dataset, reason: String) {
        let shown = KeyText.escaped(key.description)
        logger.warning("cannot delete \(shown) in \(store.id)/\(dataset.id): \(reason); skipped, kept for the next pass",
                       metadata: ["event": "\(EngineEvent.recordSkipped.rawValue)", "store": "\(store.id)", "dataset": "\(dataset.id)",
                                  "key": "\(shown)", "reason": "\(reason)"])
    }

    func reportUnnamable(in dataset: Dataset, below directory: String) {
        guard reportedUnnamable.withLock({ $0.insert(dataset.id).inserted }) else { return }
        let place = directory.isEmpty ? "the root" : KeyText.escaped(directory)
        let message = "a name in \(place) of \(store.id)/\(dataset.id) is not UTF-8: retentiond cannot name it as a key, so it is "
            + "never deleted; rename it (convmv) or remove it by hand. Skipped, reported once per pass"
        logger.warning("\(message)",
                       metadata: ["event": "\(EngineEvent.recordSkipped.rawValue)", "store": "\(store.id)", "dataset": "\(dataset.id)",
                                  "key": "\(place)", "reason": "name is not UTF-8"])
    }

    func finish(_ dataset: Dataset) async throws {
        // The job changed the tree: what follows in this pass walks it again.
        snapshots.withLock { _ = $0.removeValue(forKey: dataset.id) }
        cursors.withLock { _ = $0.removeValue(forKey: dataset.id) }
        guard dataset.removeEmptyDirectories else { return }
        let directories = touchedDirectories.withLock { set in defer { set.removeAll() }; return set }
        var candidates = Set<String>()
        for directory in directories {
            var components = directory.split(separator: "/").map(String.init)
            while !components.isEmpty {
                candidates.insert(components.joined(separator: "/"))
                components.removeLast()
            }
        }
        // Deepest first; rmdir refuses non-empty directories, which is the check we want.
        var parents = ParentDirectories(root: root)
        for directory in candidates.sorted(by: { $0.split(separator: "/").count > $1.split(separator: "/").count }) {
            // Removed by its name in its parent reached beneath the root, as files are.
            guard let components = DirectoryRoot.components(directory), let name = components.last,
                  let parent = parents.open(components.dropLast()) else { continue }
            var info = stat()
            guard fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFDIR,
                  UInt64(info.st_dev) == device else { continue }
            _ = unlinkat(parent, name, AT_REMOVEDIR)
        }
    }

    func record(_ dataset: Dataset, key: RecordKey) async throws -> [String: StoreValue]? {
        // `explain` asks about what an operator typed: a key no walk could produce has no record.
        guard let components = DirectoryRoot.components(key.description) else { return nil }
        var parents = ParentDirectories(root: root)
        return candidate(components, dataset, needsBirth: true, in: &parents)
    }

    /// Keys are paths below the root, normalised (`./a/b` is `a/b`); a directory names every file below it.
    func lookUp(_ dataset: Dataset, typed text: String) async throws -> KeyLookup {
        let relative = try KeyText.normalisedPath(text)
        let key = RecordKey.text(relative)
        // Resolved beneath the root, as every other look at the tree: a link never leads out of it.
        guard let components = DirectoryRoot.components(relative) else { return KeyLookup(key: key, type: .text, found: .nothing) }
        var parents = ParentDirectories(root: root)
        if candidate(components, dataset, needsBirth: false, in: &parents) != nil { return KeyLookup(key: key, type: .text, found: .record) }
        let directory = parents.open(components[...]) != nil
        return KeyLookup(key: key, type: .text, found: directory ? .directory : .nothing)
    }

    func earliest(_ dataset: Dataset, column: String, where predicate: RecordPredicate) async throws -> Date? {
        var earliest: Date?
        // Asking for birthtime makes the walk read it.
        each(dataset, where: predicate && (column == "birthtime" ? .isNotNull(column) : .always)) { _, times in
            if case .date(let date)? = Self.record(times)[column] { earliest = min(earliest ?? date, date) }
            return true
        }
        return earliest
    }

    func close() async {
        snapshots.withLock { $0.removeAll() }
        cursors.withLock { $0.removeAll() }
    }
}

/// A file's times, as the walk read them, in whole microseconds since 1970.
struct FileTimes: Sendable {
    var mtime: Int64
    var ctime: Int64
    var birth: Int64?

    init(_ info: stat, birth: Date?) {
        mtime = Self.micros(seconds: Int64(info.st_mtim.tv_sec), nanoseconds: Int64(info.st_mtim.tv_nsec))
        ctime = Self.micros(seconds: Int64(info.st_ctim.tv_sec), nanoseconds: Int64(info.st_ctim.tv_nsec))
        // DirectoryRoot.birthTime already rounded up to a whole microsecond, which a Date holds exactly enough.
        self.birth = birth.map(\.microsecondsSince1970)
    }

    /// A file system's time (nanoseconds) in whole microseconds, rounded **up**, in integers.
    /// Cutoffs lie on the microsecond grid and a record is due when `anchor < cutoff`; a file's
    /// time between two grid points may be due or not depending on the rule (a plain `30d` is due
    /// up to and including *now* − 30 days, an aligned rule up to just before its cutoff), so the
    /// one safe reading is the later grid point: no file is ever deleted before it is due, and a
    /// file less than 1 µs before an aligned cutoff waits for the next one. Rounding to the
    /// nearest, as through a Double (which keeps about 0.2 µs of a present-day time), deleted a
    /// file up to 500 ns before it was due.
    /// Saturates far outside the years 0001–9999 (such a time is a bad value, never due).
    static func micros(seconds: Int64, nanoseconds: Int64) -> Int64 {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        // tv_nsec is 0 ..< 1e9, also for times before 1970.
        let (sum, overflow2) = scaled.addingReportingOverflow((nanoseconds + 999) / 1_000)
        return overflow2 ? .max : sum
    }
}

/// The files of one dataset from one walk, in walk order. Compact, because it may hold hundreds
/// of thousands of files: each directory's path once, each file's name (inline in the String when
/// short, as log names are) and its times.
struct Snapshot: Sendable {
    var directories: [String] = []
    var files: [(directory: Int32, name: String, times: FileTimes)] = []
    let hasBirth: Bool

    init(hasBirth: Bool) {
        self.hasBirth = hasBirth
    }

    mutating func add(_ relative: String, _ times: FileTimes) {
        let slash = relative.lastIndex(of: "/")
        let directory = slash.map { String(relative[..<$0]) } ?? ""
        if directories.last != directory { directories.append(directory) }
        let name = slash.map { String(relative[relative.index(after: $0)...]) } ?? relative
        files.append((Int32(directories.count - 1), name, times))
    }

    func key(at index: Int) -> String {
        let file = files[index]
        let directory = directories[Int(file.directory)]
        return directory.isEmpty ? file.name : directory + "/" + file.name
    }

    /// The index of the first file after `key` in walk order (`files.count` if none), whether or
    /// not `key` itself is still in the snapshot: a binary search, the walk being sorted.
    func firstIndex(after key: String) -> Int {
        let target = key.split(separator: "/", omittingEmptySubsequences: false)
        var low = 0, high = files.count
        while low < high {
            let middle = (low + high) / 2
            if Self.precedes(target, self.key(at: middle).split(separator: "/", omittingEmptySubsequences: false)) {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return low
    }

    /// The walk's order: depth first, each directory's entries in byte order (strcmp) — so paths
    /// compare component by component, not as whole strings ("a/b" before "a.b/c").
    static func precedes(_ a: [Substring], _ b: [Substring]) -> Bool {
        a.lexicographicallyPrecedes(b) { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
