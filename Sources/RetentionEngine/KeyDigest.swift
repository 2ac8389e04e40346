import Crypto
import Foundation

/// A SHA-256 digest over a set of record keys that does not depend on their order or on batch
/// boundaries, so that it survives restarts and an auditor can recompute it from a key list.
///
/// Each key's SHA-256 is added as a 256-bit number modulo 2²⁵⁶ (the AdHash construction); the
/// published digest is the SHA-256 of that sum. Keys are hashed as their text form plus a newline.
package struct KeyDigest: Sendable, Hashable, CustomStringConvertible {
    /// The running sum, four little-endian 64-bit limbs.
    var limbs: [UInt64] = [0, 0, 0, 0]
    /// How many keys were added.
    package private(set) var count: Int = 0

    package init() {}

    /// Adds keys to the set.
    package mutating func add<Keys: Sequence>(_ keys: Keys) where Keys.Element == RecordKey {
        for key in keys {
            // Hashed straight from the key's digits or text, not via Data and Array: a purge adds a
            // million keys, and those copies cost more than the hashing.
            var hasher = SHA256()
            switch key {
            case .integer(let value):
                // The decimal digits and the newline, written backwards into a stack buffer.
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
                    var index = 23
                    buffer[index] = 10
                    var magnitude = value.magnitude
                    repeat {
                        index -= 1
                        buffer[index] = 48 + UInt8(magnitude % 10)
                        magnitude /= 10
                    } while magnitude > 0
                    if value < 0 {
                        index -= 1
                        buffer[index] = 45
                    }
                    hasher.update(bufferPointer: UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[index...])))
                }
            case .text(let value):
                var text = value
                text.append("\n")
                text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
            }
            hasher.finalize().withUnsafeBytes { raw in
                // The hash is big-endian: its last 8 bytes are the least significant word, limbs[0].
                addToSum { limb in UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: (3 - limb) * 8, as: UInt64.self)) }
            }
            count += 1
        }
    }

    /// Adds the keys another digest was taken over (the two sets must not overlap).
    package mutating func add(_ other: KeyDigest) {
        addToSum { other.limbs[$0] }
        count += other.count
    }

    /// Adds a 256-bit number, given limb by limb (least significant first), to the sum mod 2²⁵⁶.
    private mutating func addToSum(_ word: (Int) -> UInt64) {
        var carry: UInt64 = 0
        for limb in 0..<4 {
            let (partial, overflow1) = limbs[limb].addingReportingOverflow(word(limb))
            let (sum, overflow2) = partial.addingReportingOverflow(carry)
            limbs[limb] = sum
            carry = (overflow1 ? 1 : 0) + (overflow2 ? 1 : 0)
        }
    }

    /// The hex SHA-256 of the sum: what the audit record publishes.
    package var hex: String {
        var bytes: [UInt8] = []
        for limb in limbs.reversed() { for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: limb >> UInt64(shift))) } }
        return SHA256.hash(data: Data(bytes)).map { String(format: "%02x", $0) }.joined()
    }

    package var description: String { hex }

    /// The running state, for the state database.
    package var stateText: String { limbs.map { String($0, radix: 16) }.joined(separator: ":") + "/\(count)" }

    /// Reads `stateText`.
    package init?(stateText: String) {
        let parts = stateText.split(separator: "/")
        guard parts.count == 2, let count = Int(parts[1]) else { return nil }
        let limbs = parts[0].split(separator: ":").compactMap { UInt64($0, radix: 16) }
        guard limbs.count == 4 else { return nil }
        self.limbs = limbs
        self.count = count
    }
}
