import CFileSystem
import Foundation
import RetentionEngine
import RetentionRules
#if canImport(Glibc)
import Glibc
#endif

/// A files store's root, held open: every name below it is reached from this descriptor, never by
/// a path string from `/`.
///
/// A path string is resolved again by the kernel at each call, and `O_NOFOLLOW` guards its last
/// component only: a process that swaps a directory of the store for a link to another directory
/// between the walk and the unlink gets a file *outside* the store deleted. Here a directory is
/// reached one component at a time (`openat(…, O_NOFOLLOW|O_DIRECTORY)`, or one `openat2` with
/// `RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV` where the kernel has it), each step checked
/// to be on the root's file system and mount, and a file is then judged and removed by its name in
/// that directory's descriptor. A swapped directory makes the step fail (ELOOP): the file is left
/// for the next pass.
final class DirectoryRoot: Sendable {
    let path: String
    let descriptor: Int32
    let device: UInt64
    /// The root's mount (statx `STATX_MNT_ID`), where the kernel reports it: a bind mount of the same
    /// file system below the root has the same device and another mount id.
    let mountID: UInt64?
    /// Whether openat2(2) resolves beneath a descriptor here (Linux 5.6; a seccomp filter may refuse it).
    let resolvesBeneath: Bool

    /// `useOpenat2: false` resolves component by component even where openat2 exists, as on
    /// kernels before 5.6.
    init(path: String, useOpenat2: Bool = true) throws(DirectoryRootError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw DirectoryRootError(path: path, message: Self.describe(errno)) }
        var identity = rd_file_identity()
        guard rd_statx(descriptor, "", &identity) == 0, identity.mode & UInt32(S_IFMT) == UInt32(S_IFDIR) else {
            Glibc.close(descriptor)
            throw DirectoryRootError(path: path, message: "another kind of file")
        }
        self.descriptor = descriptor
        device = identity.device
        mountID = identity.has_mount_id != 0 ? identity.mount_id : nil
        let probe = useOpenat2 ? rd_openat_beneath(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1
        resolvesBeneath = probe >= 0
        if probe >= 0 { Glibc.close(probe) }
    }

    deinit { Glibc.close(descriptor) }

    /// The components of a key, or nil when it is not a plain path below the root: absolute, or with
    /// an empty, `.` or `..` component. Keys come from the walk, and back from the state database
    /// after a crash, where anyone able to write that file could have put `../../etc/…`.
    static func components(_ key: String) -> [String]? {
        guard !key.isEmpty, !key.hasPrefix("/"), !key.utf8.contains(0) else { return nil }
        let components = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { return nil }
        return components
    }

    /// True when the open file or directory is on the root's file system and mount.
    func contains(_ descriptor: Int32) -> Bool {
        var identity = rd_file_identity()
        guard rd_statx(descriptor, "", &identity) == 0, identity.device == device else { return false }
        guard let mountID, identity.has_mount_id != 0 else { return true }
        return identity.mount_id == mountID
    }

    /// A new descriptor of the directory `components` below the root (the caller closes it), or nil
    /// when some component is missing, not a directory, a link, or on another file system or mount.
    func openDirectory(_ components: ArraySlice<String>) -> Int32? {
        let flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        if components.isEmpty {
            // A new open file description: a directory stream's offset is shared by duplicates.
            let opened = openat(descriptor, ".", flags)
            return opened >= 0 ? opened : nil
        }
        if resolvesBeneath {
            let opened = rd_openat_beneath(descriptor, components.joined(separator: "/"), flags)
            guard opened >= 0 else { return nil }
            // RESOLVE_NO_XDEV refused every mount crossing on the way; the last step is checked too.
            guard contains(opened) else { Glibc.close(opened); return nil }
            return opened
        }
        var current = descriptor
        for component in components {
            let next = openat(current, component, flags)
            if current != descriptor { Glibc.close(current) }
            guard next >= 0 else { return nil }
            guard contains(next) else { Glibc.close(next); return nil }
            current = next
        }
        return current
    }

    /// Birth time of `name` in `directory` ("" : the open file itself), where the file system
    /// records it; else nil, and a rule counting from it treats the file as not yet started.
    static func birthTime(_ directory: Int32, _ name: String) -> Date? {
        var identity = rd_file_identity()
        guard rd_statx(directory, name, &identity) == 0, identity.has_birth != 0 else { return nil }
        return Date(microsecondsSince1970: FileTimes.micros(seconds: Int64(identity.birth_seconds), nanoseconds: Int64(identity.birth_nanoseconds)))
    }

    /// True when another process or open file description holds a POSIX (`fcntl`) or OFD record
    /// lock on the open file: SQLite, among others, locks with those and not with flock(2).
    static func recordLocked(_ descriptor: Int32) -> Bool {
        // A kernel that cannot tell (no OFD locks) is taken as "locked": the file waits.
        rd_record_locked(descriptor) != 0
    }

    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// A files store's root that cannot be opened as a directory.
struct DirectoryRootError: Error, CustomStringConvertible {
    let path: String
    let message: String

    var description: String { "\(path) is not a directory: \(message)" }
}

/// Parent directories of a batch's keys, opened beneath the root: keys come in name order, so
/// consecutive keys mostly share their directory and it is opened once.
struct ParentDirectories: ~Copyable {
    let root: DirectoryRoot
    private var components: [String]?
    private var descriptor: Int32 = -1

    init(root: DirectoryRoot) {
        self.root = root
    }

    /// The descriptor of the directory `components` below the root (owned here), or nil.
    mutating func open(_ components: ArraySlice<String>) -> Int32? {
        if let open = self.components, open[...] == components { return descriptor >= 0 ? descriptor : nil }
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = root.openDirectory(components) ?? -1
        self.components = Array(components)
        return descriptor >= 0 ? descriptor : nil
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }
}
