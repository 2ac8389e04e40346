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
        // All fields in one buffer; each iovec points at its slice while the buffer is pinned.
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        for field in fields {
            let start = bytes.count
            bytes += (field.name + "=" + field.value).utf8
            ranges.append(start..<bytes.count)
        }
        return bytes.withUnsafeMutableBytes { buffer in
            let vectors = ranges.map { iovec(iov_base: buffer.baseAddress?.advanced(by: $0.lowerBound), iov_len: $0.count) }
            return vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
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
