import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's memory: jobs and their progress, holds, passes, locked rules and the audit chain,
/// in one SQLite file (default `/var/lib/retentiond/state.sqlite`) — the `StateStore` a single
/// host's retentiond keeps, on GRDB.
///
/// Every change that the crash-safety argument relies on is one transaction here: a job row before
/// its first batch, a batch's keys before the store is touched, the batch's result after.
///
/// Each table has a record type that maps its columns one for one (`JobRow`, `AuditRecord`, …);
/// the schema is `StateDatabase+Schema.swift`, and the operations are split by concept:
/// `+Jobs`, `+Batches`, `+Holds`, `+Passes`, `+LockedRules`, `+Audit`.
package final class StateDatabase: StateBackend {
    /// Where the state database lives unless told otherwise (systemd's `StateDirectory=retentiond`).
    static let defaultPath = "/var/lib/retentiond/state.sqlite"

    /// The state database to use: the one given, else `$RETENTIOND_STATE`, else `defaultPath`.
    package static func path(given: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        given ?? environment["RETENTIOND_STATE"] ?? defaultPath
    }

    let writer: any DatabaseWriter
    /// The file, for messages.
    package let path: String
    package var location: String { path }
    /// The id of this database's audit chain: random, made once with the table that holds it.
    /// Journal anchors name it, so that the chains of several state databases never mix.
    package let chainID: String
    /// Seals every audit record appended; nil appends unkeyed records (refused once the chain is keyed).
    package let auditKey: AuditKey?
    /// Told of every audit record once it is committed: the daemon writes it to the journal.
    let anchor: (@Sendable (AuditAnchor) -> Void)?

    package typealias Creation = StateCreation

    /// Whether this open created the file (so it has no history).
    package let created: Bool

    /// Opens the state database at `path` and brings its schema up to date. A new file is created
    /// only when `creation` allows it, and then readable by its owner alone (0600): it holds keys
    /// of people's records.
    /// - Parameters:
    ///   - auditKey: the key that seals audit records appended through this instance.
    ///   - anchor: called with each audit record's anchor after the record is committed, to keep
    ///     it outside the database (the journal).
    package init(path: String, creation: Creation = .refuse, auditKey: AuditKey? = nil,
                anchor: (@Sendable (AuditAnchor) -> Void)? = nil) throws(StateError) {
        self.path = path
        self.auditKey = auditKey
        self.anchor = anchor
        var configuration = GRDB.Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            created = try Self.prepareFile(at: path, creation: creation)
            writer = try DatabaseQueue(path: path, configuration: configuration)
            try Self.migrate(writer)
            chainID = try writer.read { db in try String.fetchOne(db, sql: "SELECT id FROM audit_chain") } ?? ""
        } catch let error as StateError {
            throw error
        } catch {
            throw StateError(path: path, message: "\(error)")
        }
    }

    /// Checks the file is there (or creates it empty, 0600, when allowed); returns whether it was created.
    /// SQLite gives its `-wal` and `-shm` files the database file's permissions.
    private static func prepareFile(at path: String, creation: Creation) throws(StateError) -> Bool {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            throw StateError(path: path, message: "the directory \(directory) does not exist (systemd creates it with StateDirectory=retentiond)")
        }
        var status = stat()
        if lstat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFREG else {
                throw StateError(path: path, message: "expected a state database file, found something else (a directory, a link or a device)")
            }
            return false
        }
        guard creation == .ifMissing else {
            throw StateError(path: path, message: "no state database here. Holds, approvals, locked rules and the audit trail live "
                             + "in the state database, so a mistyped --state would act without them: check the path (the default is "
                             + "\(defaultPath), or $RETENTIOND_STATE); to start a new one, run retentionctl run (or hold add, or retentiond) with --init")
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StateError(path: path, message: "cannot create the state database: \(String(cString: strerror(errno)))")
        }
        Glibc.close(descriptor)
        return true
    }

    /// Nothing to let go of: the file is closed with the last reference.
    package func close() async {}

    func write<T>(_ body: (Database) throws -> T) throws(StateError) -> T {
        do { return try writer.write(body) } catch let error as StateError { throw error } catch {
            throw StateError(path: path, message: "\(error)")
        }
    }

    /// `write`, committed with `synchronous = NORMAL`: no fsync, durable with the next FULL
    /// commit. Only for what the crash-safety argument does not need durable at once
    /// (`finishBatch`); every other write keeps FULL, which is restored before this returns.
    func unsynced(_ body: (Database) throws -> Void) throws(StateError) {
        do {
            try writer.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                let result = Result { try db.inTransaction(.immediate) { try body(db); return .commit } }
                // Restored whatever happened: a later write left at NORMAL would lose its fsync silently.
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try result.get()
            }
        } catch let error as StateError { throw error } catch {
            throw StateError(path: path, message: "\(error)")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StateError) -> T {
        do { return try writer.read(body) } catch let error as StateError { throw error } catch {
            throw StateError(path: path, message: "\(error)")
        }
    }

    /// A value as the JSON text of a column (sorted keys, so that equal values are equal text).
    package static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
