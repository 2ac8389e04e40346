import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes journal entries over journald's native protocol (a datagram to its socket), so that
/// retentionctl anchors the audit records it appends without linking libsystemd.
enum JournalSocket {
    static let path = "/run/systemd/journal/socket"

    /// Sends one entry; returns nil, or why it could not (no journald, for one).
    static func send(_ fields: [(name: String, value: String)]) -> String? {
        // Each field as NAME, a newline, the value's length (64-bit little-endian), the value and a
        // newline: the form that takes any value, newlines included.
        var datagram: [UInt8] = []
        for field in fields {
            let value = Array(field.value.utf8)
            datagram += Array(field.name.utf8) + [10]
            withUnsafeBytes(of: UInt64(value.count).littleEndian) { datagram += $0 }
            datagram += value + [10]
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return "socket: \(String(cString: strerror(errno)))" }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(capacity - 1))
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let sent = datagram.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        return sent < 0 ? "\(path): \(String(cString: strerror(errno)))" : nil
    }
}
