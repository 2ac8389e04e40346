import Foundation
package import RetentionRules

/// Computes anonymized values: what each strategy makes of a value.
package enum Anonymizer: Sendable {
    /// The anonymized form of `value` under `strategy`; nil stays nil.
    package static func apply(_ strategy: AnonymizationStrategy, to value: StoreValue, key: HMACKey?) throws -> StoreValue {
        if value.isNull { return .null }
        switch strategy {
        case .null: return .null
        case .fixed(let text): return .text(text)
        case .hmacSHA256:
            guard let key else { throw HMACKeyError(message: "hmac-sha256 needs a key: --hmac-key FILE or the systemd credential 'hmac-key'") }
            return .text(key.apply(value.description))
        case .truncateIP:
            return .text(truncateIP(value.description))
        case .month:
            // A value that is no representable time (Inf, year 300,000) says nothing about a month: null.
            switch value {
            case .date(let date): return firstOfMonth(date).map(StoreValue.date) ?? .null
            case .integer(let seconds):
                return firstOfMonth(Date(timeIntervalSince1970: Double(seconds))).map { .integer(Int64($0.timeIntervalSince1970)) } ?? .null
            case .real(let seconds):
                guard seconds.isFinite else { return .null }
                return firstOfMonth(Date(timeIntervalSince1970: seconds)).map { .real($0.timeIntervalSince1970) } ?? .null
            case .text(let text):
                // Keep the text's own shape: 2024-03-17 → 2024-03-01, with a time part → midnight.
                guard text.count >= 10, InstantText.parseCivil(String(text.prefix(10))) != nil else { return .null }
                let day = String(text.prefix(8)) + "01"
                return .text(text.count > 10 ? day + " 00:00:00" : day)
            case .null: return .null
            }
        }
    }

    /// IPv4 to its /24 (`192.0.2.17` → `192.0.2.0`), IPv6 to its /48 (`2001:db8:1:2::5` →
    /// `2001:db8:1::`). Anything unparseable becomes the empty address `0.0.0.0`, so that no
    /// identifying text survives.
    package static func truncateIP(_ text: String) -> String {
        // Byte by byte on the stack: an anonymize job truncates an address per record.
        var text = text
        return text.withUTF8 { bytes in
            // PostgreSQL prints inet values with their prefix length (192.0.2.7/32).
            let length = bytes.firstIndex(of: UInt8(ascii: "/")) ?? bytes.count
            guard length < 64 else { return "0.0.0.0" }
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64 + Int(INET6_ADDRSTRLEN)) { buffer in
                for index in 0..<length { buffer[index] = CChar(bitPattern: bytes[index]) }
                buffer[length] = 0
                let address = buffer.baseAddress!, output = buffer.baseAddress! + 64
                var v4 = in_addr()
                if inet_pton(AF_INET, address, &v4) == 1 {
                    // a.b.c.0, written directly (inet_ntop formats with sprintf).
                    return withUnsafeBytes(of: &v4) { octets in
                        var text = ""
                        text.reserveCapacity(15)
                        for index in 0..<3 {
                            text += String(octets[index])
                            text += "."
                        }
                        return text + "0"
                    }
                }
                var v6 = in6_addr()
                if inet_pton(AF_INET6, address, &v6) == 1 {
                    withUnsafeMutableBytes(of: &v6) { octets in
                        for index in 6..<16 { octets[index] = 0 }
                    }
                    _ = inet_ntop(AF_INET6, &v6, output, socklen_t(INET6_ADDRSTRLEN))
                    return String(cString: output)
                }
                return "0.0.0.0"
            }
        }
    }

    static func firstOfMonth(_ date: Date) -> Date? {
        guard RepresentableInstants.contains(date) else { return nil }
        let micros = date.microsecondsSince1970
        let (days, _) = micros.quotientAndRemainderFloor(dividingBy: 86_400_000_000)
        let (year, month, _) = LocalDateTime.civil(fromDays: Int(days))
        return Date(microsecondsSince1970: Int64(LocalDateTime.days(year: year, month: month, day: 1)) * 86_400_000_000)
    }
}
