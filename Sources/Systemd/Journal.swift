import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// Writes structured entries to systemd-journald with `sd_journal_sendv(3)`.
public enum Journal: Sendable {
    /// Sends one entry made of `FIELD=value` pairs; field names are upper case letters, digits and
    /// `_`, not starting with `_`. Values may hold any bytes, newlines included. Returns 0 or a
    /// negative errno (journald not running: -ENOENT or -ECONNREFUSED).
    @discardableResult
    public static func send(_ fields: [(name: String, value: String)]) -> Int32 {
        let entries = fields.map { Array(($0.name + "=" + $0.value).utf8) }
        // Each iovec points into an array kept alive by the nested closures below.
        return withIOVectors(entries[...], collected: []) { vectors in
            vectors.withUnsafeBufferPointer { buffer in
                sd_journal_sendv(buffer.baseAddress, Int32(buffer.count))
            }
        }
    }

    private static func withIOVectors<R>(_ rest: ArraySlice<[UInt8]>, collected: [iovec], _ body: ([iovec]) -> R) -> R {
        guard let first = rest.first else { return body(collected) }
        return first.withUnsafeBytes { bytes in
            let vector = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
            return withIOVectors(rest.dropFirst(), collected: collected + [vector], body)
        }
    }

    /// Whether this process's stderr is the journal's stream (systemd sets `$JOURNAL_STREAM` to
    /// the `DEVICE:INODE` of that stream): then structured entries should go to the journal, and
    /// plain lines on stderr would only repeat them.
    public static var isStandardErrorJournal: Bool {
        guard let value = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(STDERR_FILENO, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    /// A metadata key as a journal field name: `job_id` → `JOB_ID`; anything but letters, digits
    /// and `_` becomes `_`, and a leading `_` or digit (reserved, or invalid) gets a prefix.
    public static func fieldName(_ key: String) -> String {
        var name = String(key.uppercased().unicodeScalars.map { scalar -> Character in
            (("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_") ? Character(scalar) : "_"
        })
        if let first = name.unicodeScalars.first, first == "_" || ("0"..."9").contains(first) { name = "F" + name }
        return String(name.prefix(64))
    }
}
