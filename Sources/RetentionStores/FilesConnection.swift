import Foundation
import RetentionEngine
import RetentionRules
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A directory of files, the way systemd-tmpfiles treats one: walked in name order, never
/// following symbolic links, never leaving the root's file system, skipping files another process
/// holds locked. Keys are paths relative to the root; a file's record is its times.
final class FilesConnection: StoreConnection {
    let store: Store
    let root: String
    let device: UInt64
    /// Directories a purge emptied files from, to remove at the end of the job when asked.
    let touchedDirectories = Mutex<Set<String>>([])

    init(store: Store, root: String) throws {
        self.store = store
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        var info = stat()
        guard lstat(root, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw StoreError(store: store.id, message: "\(root) is not a directory")
        }
        device = UInt64(info.st_dev)
    }

    /// A file's times, keyed as a files dataset maps them.
    static func record(_ info: stat, birth: Date?) -> [String: StoreValue] {
        func date(_ spec: timespec) -> StoreValue {
            .date(Date(timeIntervalSince1970: Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9))
        }
        return ["mtime": date(info.st_mtim), "ctime": date(info.st_ctim), "birthtime": birth.map(StoreValue.date) ?? .null]
    }

    /// Birth time where the file system records it (statx), else nil: a rule counting from it
    /// treats such files as not yet started, never as due.
    static func birthTime(_ path: String) -> Date? {
        // Foundation reads it with statx(2) on Linux, without following links.
        (try? FileManager.default.attributesOfItem(atPath: path))?[.creationDate] as? Date
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    /// The file's record if it is a regular file on the root's file system matching the pattern.
    func candidate(_ relative: String, _ dataset: Dataset, needsBirth: Bool) -> [String: StoreValue]? {
        var info = stat()
        let full = path(relative)
        guard lstat(full, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, UInt64(info.st_dev) == device else { return nil }
        if let pattern = dataset.match {
            let name = relative.split(separator: "/").last.map(String.init) ?? relative
            guard fnmatch(pattern, name, 0) == 0 else { return nil }
        }
        return Self.record(info, birth: needsBirth ? Self.birthTime(full) : nil)
    }

    /// Walks the tree in name order (component by component), after `after`, calling `visit` with
    /// each matching file until it returns false.
    func walk(_ dataset: Dataset, after: RecordKey?, needsBirth: Bool, visit: (String, [String: StoreValue]) -> Bool) {
        let start = after.map { $0.description.split(separator: "/").map(String.init) } ?? []
        _ = walkDirectory("", dataset, after: start, needsBirth: needsBirth, visit: visit)
    }

    private func walkDirectory(_ relative: String, _ dataset: Dataset, after: [String], needsBirth: Bool,
                               visit: (String, [String: StoreValue]) -> Bool) -> Bool {
        let directory = relative.isEmpty ? root : path(relative)
        guard let handle = opendir(directory) else { return true }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(handle)
        names.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        for name in names {
            var remaining: [String] = []
            if let first = after.first {
                if Array(name.utf8).lexicographicallyPrecedes(Array(first.utf8)) { continue }
                if name == first {
                    remaining = Array(after.dropFirst())
                    if remaining.isEmpty { continue }   // the last key itself: done already
                }
            }
            let child = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(path(child), &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                guard UInt64(info.st_dev) == device else { continue }
                if !walkDirectory(child, dataset, after: remaining, needsBirth: needsBirth, visit: visit) { return false }
            case S_IFREG:
                guard remaining.isEmpty, let record = candidate(child, dataset, needsBirth: needsBirth) else { continue }
                if !visit(child, record) { return false }
            default:
                continue   // symbolic links, sockets, devices: never followed, never touched
            }
        }
        return true
    }

    func needsBirth(_ predicate: RecordPredicate) -> Bool { predicate.columns.contains("birthtime") }

    func count(_ dataset: Dataset, where predicate: RecordPredicate) async throws -> Int {
        var count = 0
        walk(dataset, after: nil, needsBirth: needsBirth(predicate)) { relative, record in
            if predicate.evaluate(record, key: .text(relative)) == true { count += 1 }
            return true
        }
        return count
    }

    func total(_ dataset: Dataset) async throws -> Int {
        var count = 0
        walk(dataset, after: nil, needsBirth: false) { _, _ in count += 1; return true }
        return count
    }

    func keys(_ dataset: Dataset, where predicate: RecordPredicate, after: RecordKey?, limit: Int) async throws -> [RecordKey] {
        var keys: [RecordKey] = []
        walk(dataset, after: after, needsBirth: needsBirth(predicate)) { relative, record in
            if predicate.evaluate(record, key: .text(relative)) == true { keys.append(.text(relative)) }
            return keys.count < limit
        }
        return keys
    }

    func matching(_ dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey] {
        keys.filter { key in
            candidate(key.description, dataset, needsBirth: needsBirth(predicate)).flatMap { predicate.evaluate($0, key: key) } == true
        }
    }

    func apply(_ change: Change, to dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey] {
        guard case .delete = change else {
            throw StoreError(store: store.id, message: "files can only be deleted")
        }
        var removed: [RecordKey] = []
        for key in keys {
            let relative = key.description
            guard let record = candidate(relative, dataset, needsBirth: needsBirth(predicate)),
                  predicate.evaluate(record, key: key) == true else { continue }
            // A file another process holds a lock on is in use: skip it, as systemd-tmpfiles does.
            let descriptor = open(path(relative), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { Glibc.close(descriptor) }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { continue }
            guard unlink(path(relative)) == 0 else {
                if errno == ENOENT { continue }
                throw StoreError(store: store.id, message: "cannot delete \(path(relative)): \(String(cString: strerror(errno)))")
            }
            removed.append(key)
            if dataset.removeEmptyDirectories, let slash = relative.lastIndex(of: "/") {
                let parent = String(relative[..<slash])
                touchedDirectories.withLock { _ = $0.insert(parent) }
            }
        }
        return removed
    }

    func finish(_ dataset: Dataset) async throws {
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
        for directory in candidates.sorted(by: { $0.split(separator: "/").count > $1.split(separator: "/").count }) {
            var info = stat()
            guard lstat(path(directory), &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, UInt64(info.st_dev) == device else { continue }
            _ = rmdir(path(directory))
        }
    }

    func record(_ dataset: Dataset, key: RecordKey) async throws -> [String: StoreValue]? {
        candidate(key.description, dataset, needsBirth: true)
    }

    func earliest(_ dataset: Dataset, column: String, where predicate: RecordPredicate) async throws -> Date? {
        var earliest: Date?
        walk(dataset, after: nil, needsBirth: column == "birthtime") { relative, record in
            if predicate.evaluate(record, key: .text(relative)) == true, case .date(let date)? = record[column] {
                earliest = min(earliest ?? date, date)
            }
            return true
        }
        return earliest
    }

    func close() async {}
}
