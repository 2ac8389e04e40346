import Foundation
public import RetentionRules

/// Computes anonymized values: what each strategy makes of a value.
public enum Anonymizer: Sendable {
    /// The anonymized form of `value` under `strategy`; nil stays nil.
    public static func apply(_ strategy: AnonymizationStrategy, to value: StoreValue, key: HMACKey?) throws -> StoreValue {
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
            switch value {
            case .date(let date): return .date(firstOfMonth(date))
            case .integer(let seconds): return .integer(Int64(firstOfMonth(Date(timeIntervalSince1970: Double(seconds))).timeIntervalSince1970))
            case .real(let seconds): return .real(firstOfMonth(Date(timeIntervalSince1970: seconds)).timeIntervalSince1970)
            case .text(let text):
                // Keep the text's own shape: 2024-03-17 → 2024-03-01, with a time part → midnight.
                guard text.count >= 10, TimeText.parseSQLite(String(text.prefix(10))) != nil else { return .null }
                let day = String(text.prefix(8)) + "01"
                return .text(text.count > 10 ? day + " 00:00:00" : day)
            case .null: return .null
            }
        }
    }

    /// IPv4 to its /24 (`192.0.2.17` → `192.0.2.0`), IPv6 to its /48 (`2001:db8:1:2::5` →
    /// `2001:db8:1::`). Anything unparseable becomes the empty address `0.0.0.0`, so that no
    /// identifying text survives.
    public static func truncateIP(_ text: String) -> String {
        // PostgreSQL prints inet values with their prefix length (192.0.2.7/32).
        let text = text.split(separator: "/", maxSplits: 1).first.map(String.init) ?? text
        var address = in6_addr()
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            withUnsafeMutableBytes(of: &v4) { $0[3] = 0 }
            var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            _ = inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count))
            return string(buffer)
        }
        if inet_pton(AF_INET6, text, &address) == 1 {
            withUnsafeMutableBytes(of: &address) { bytes in
                for index in 6..<16 { bytes[index] = 0 }
            }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
            return string(buffer)
        }
        return "0.0.0.0"
    }

    private static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func firstOfMonth(_ date: Date) -> Date {
        let micros = TimeText.micros(date)
        let (days, _) = micros.quotientAndRemainderFloor(dividingBy: 86_400_000_000)
        let (year, month, _) = LocalDateTime.civil(fromDays: Int(days))
        return TimeText.date(micros: Int64(LocalDateTime.days(year: year, month: month, day: 1)) * 86_400_000_000)
    }
}
