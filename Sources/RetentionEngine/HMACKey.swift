package import Foundation
import Crypto

/// The secret for `hmac-sha256` anonymization, read from a file or a systemd credential — never
/// from a YAML file, so that it stays out of configuration management and backups of `/etc`.
package struct HMACKey: Sendable, Hashable {
    let bytes: Data
    /// HMAC-SHA256 (RFC 2104) keyed once — the inner and outer hashes with their padded key block
    /// already taken in — and copied for each value: an anonymize job hashes a value per record.
    /// On SHA256 itself rather than swift-crypto's `HMAC<SHA256>`, whose update is generic over
    /// `DataProtocol` and, called from another module, looked up type metadata for every value.
    let inner: SHA256, outer: SHA256

    /// A key from raw bytes (at least 16).
    package init(bytes: Data) {
        self.bytes = bytes
        (inner, outer) = Self.keyedHashes(bytes)
    }

    /// The inner and outer hashes after their padded key block: a key longer than SHA-256's
    /// 64-byte block is hashed first, a shorter one padded with zeros.
    static func keyedHashes(_ key: Data) -> (inner: SHA256, outer: SHA256) {
        var block = key.count > 64 ? Array(SHA256.hash(data: key)) : Array(key)
        block += Array(repeating: 0, count: 64 - block.count)
        var inner = SHA256(), outer = SHA256()
        inner.update(data: block.map { $0 ^ 0x36 })
        outer.update(data: block.map { $0 ^ 0x5c })
        return (inner, outer)
    }

    package static func == (lhs: HMACKey, rhs: HMACKey) -> Bool { lhs.bytes == rhs.bytes }
    package func hash(into hasher: inout Hasher) { hasher.combine(bytes) }

    /// The credential name under `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=`).
    package static let credentialName = "hmac-key"

    /// Reads the key from `path`, or else from the systemd credential `hmac-key`; nil if neither.
    package static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> HMACKey? {
        let data: Data, candidate: String
        switch Credential.read(credentialName, path: path, environment: environment) {
        case .absent: return nil
        case .unreadable(let file): throw HMACKeyError(message: "cannot read the HMAC key file \(file)")
        case .read(let contents, let file): (data, candidate) = (contents, file)
        }
        var trimmed = data
        while let last = trimmed.last, last == 10 || last == 13 { trimmed.removeLast() }
        guard trimmed.count >= 16 else {
            throw HMACKeyError(message: "the HMAC key in \(candidate) has \(trimmed.count) bytes; use at least 16 (e.g. head -c 32 /dev/urandom | base64)")
        }
        return HMACKey(bytes: trimmed)
    }

    /// Hex HMAC-SHA256 of `text`: the same input gives the same output, so joins still work.
    package func apply(_ text: String) -> String {
        var hash = inner
        var text = text
        text.withUTF8 { hash.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        var mac = outer
        hash.finalize().withUnsafeBytes { mac.update(bufferPointer: $0) }
        // Straight from the code's bytes: a copy into Data and an Array of the digits were two heap
        // allocations per record.
        return mac.finalize().withUnsafeBytes { code in
            String(unsafeUninitializedCapacity: code.count * 2) { out in
                for (index, byte) in code.enumerated() {
                    out[2 * index] = Self.hexDigit(byte >> 4)
                    out[2 * index + 1] = Self.hexDigit(byte & 15)
                }
                return code.count * 2
            }
        }
    }

    /// The lower-case hex digit of a nibble.
    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 48 + nibble : 87 + nibble }
}

/// The HMAC key could not be read.
struct HMACKeyError: Error, Sendable, CustomStringConvertible {
    var message: String
    var description: String { message }
}
