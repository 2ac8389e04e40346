import Foundation

/// A PostgreSQL store's connection URL, read the way libpq users write it:
/// `postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=MODE[&sslrootcert=FILE]]`.
///
/// Only what retentiond acts on is accepted, so that nothing in the DSN is silently ignored: no
/// password (it comes from a credential, see docs/stores.md), no key/value form (`host=… dbname=…`),
/// no query parameter but `sslmode` and `sslrootcert`. Problems never quote the text itself,
/// which may hold a secret the operator put there by mistake.
package struct PostgresDSN: Sendable, Hashable, CustomStringConvertible {
    /// How the connection uses TLS; the names and meanings are libpq's.
    package enum SSLMode: String, Sendable, Hashable, CaseIterable {
        /// Never TLS.
        case disable
        /// TLS or no connection; the server's certificate is not checked.
        case require
        /// TLS with a certificate signed by a trusted CA, for any host name.
        case verifyCA = "verify-ca"
        /// TLS with a certificate signed by a trusted CA and issued for the host connected to.
        case verifyFull = "verify-full"

        /// Whether the server's certificate is checked against the trusted CAs.
        package var verifiesCertificate: Bool { self == .verifyCA || self == .verifyFull }
    }

    /// One thing wrong with a DSN: the message, and how many characters into the DSN it is.
    package struct Problem: Sendable, Hashable {
        package var message: String
        package var offset: Int
    }

    /// Every problem of a DSN that cannot be used, so that lint reports them all at once.
    package struct Invalid: Error, Sendable, CustomStringConvertible {
        package var problems: [Problem]
        package var description: String { problems.map(\.message).joined(separator: "; ") }
    }

    package var user: String
    package var host: String
    package var port: Int
    /// Nil: the server's default (the user's name).
    package var database: String?
    /// `sslmode`, or the default for the host when the DSN does not say (``defaultSSLMode(for:)``).
    package var sslMode: SSLMode
    /// Whether the DSN says `sslmode=` itself.
    package var sslModeGiven: Bool
    /// The CA certificates (PEM) a `verify-*` mode trusts; nil or `system`: the system's CAs.
    package var sslRootCert: String?

    /// The parameters retentiond reads from the query part.
    static let parameters = ["sslmode", "sslrootcert"]

    /// Without `sslmode`: no TLS to a loopback address, where TLS protects nothing a local root
    /// could not read anyway (and a local server rarely has a certificate); `verify-full`
    /// anywhere else, because a password or personal data crossing a network unencrypted, or to
    /// a server nobody checked, is the failure this default exists to prevent. libpq's `prefer`
    /// is not offered at all: it falls back to plain text without a word whenever TLS fails.
    static func defaultSSLMode(for host: String) -> SSLMode {
        isLoopback(host) ? .disable : .verifyFull
    }

    /// `localhost`, 127.0.0.0/8 or ::1: traffic that never leaves the machine.
    package static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { part in UInt8(part) != nil }
    }

    /// Whether the connection never leaves this machine.
    package var isLoopback: Bool { Self.isLoopback(host) }

    /// The DSN without anything but user, host, port, database and the TLS mode: what messages show.
    package var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgresql://\(user)@\(shownHost):\(port)/\(database ?? "")?sslmode=\(sslMode.rawValue)"
    }

    /// A sentence for lint when the DSN works but leaves the connection open to eavesdropping or
    /// impersonation across a network; nil when it does not.
    var weakness: String? {
        guard !isLoopback else { return nil }
        switch sslMode {
        case .disable:
            return "sslmode=disable to \(host), which is not a loopback address: the password exchange and every record cross the network unencrypted; use sslmode=verify-full"
        case .require:
            return "sslmode=require does not check the server's certificate: anyone on the path to \(host) can pose as the server; use sslmode=verify-full with sslrootcert"
        case .verifyCA:
            return "sslmode=verify-ca does not check that the certificate was issued for \(host): any server holding a certificate of that CA passes; use sslmode=verify-full"
        case .verifyFull:
            return nil
        }
    }

    /// Reads a DSN; `Invalid` lists every problem, none of which quotes the DSN.
    package static func parse(_ text: String) throws(Invalid) -> PostgresDSN {
        var problems: [Problem] = []
        func problem(_ message: String, at index: String.Index? = nil) {
            let offset = index.map { text.unicodeScalars.distance(from: text.startIndex, to: $0) } ?? 0
            problems.append(Problem(message: message, offset: offset))
        }
        let lowered = text.lowercased()
        guard let scheme = ["postgresql://", "postgres://"].first(where: { lowered.hasPrefix($0) }) else {
            let keyValue = text.contains("=") && !text.contains("://")
            problem("the dsn must be a URL postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=…]"
                    + (keyValue ? "; a key/value connection string (host=… dbname=…) is not accepted" : ""))
            if lowered.contains("password") { problem("the dsn holds a password: give it as a systemd credential (LoadCredential=postgres-password:…), never in the file") }
            throw Invalid(problems: problems)
        }
        // A ':' before the last '@' ahead of the query separates a password from the user name,
        // also when the password holds a '/' that makes the rest no URL at all. (A database
        // name with '@' and a port before it reads as a password too: write it %40.)
        let afterScheme = text.index(text.startIndex, offsetBy: scheme.count)
        let authorityEnd = text[afterScheme...].firstIndex { "/?#".contains($0) } ?? text.endIndex
        let authority = text[afterScheme..<authorityEnd]
        let beforeQuery = text[afterScheme..<(text[afterScheme...].firstIndex { "?#".contains($0) } ?? text.endIndex)]
        var holdsPassword = false
        if let at = beforeQuery.lastIndex(of: "@"), let colon = beforeQuery[..<at].firstIndex(of: ":") {
            holdsPassword = true
            problem("the dsn holds a password: give it as a systemd credential (LoadCredential=postgres-password:…), never in the file", at: colon)
        }
        guard let url = URLComponents(string: text) else {
            if !holdsPassword { problem("the dsn is not a well-formed URL postgresql://USER@HOST[:PORT]/DATABASE (a character that must be percent-encoded, or a bad port?)") }
            throw Invalid(problems: problems)
        }
        if url.password != nil, !holdsPassword {
            problem("the dsn holds a password: give it as a systemd credential (LoadCredential=postgres-password:…), never in the file")
        }
        if url.fragment != nil {
            problem("the dsn has a '#' part, which means nothing to PostgreSQL", at: text.firstIndex(of: "#"))
        }
        if let port = url.port, !(1...65535).contains(port) {
            problem("the port must be from 1 to 65535; found \(port)", at: authority.lastIndex(of: ":"))
        }
        var values: [String: String] = [:]
        let queryStart = text.firstIndex(of: "?")
        for item in url.queryItems ?? [] {
            let at = text.range(of: item.name + "=", range: (queryStart ?? text.startIndex)..<text.endIndex)?.lowerBound ?? queryStart
            if item.name.lowercased() == "password" {
                problem("the dsn holds a password (?password=): give it as a systemd credential (LoadCredential=postgres-password:…), never in the file", at: at)
            } else if !parameters.contains(item.name) {
                // The name is shown only when it is a plain word: anything else might be a secret.
                let plain = !item.name.isEmpty && item.name.count <= 40 && item.name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
                problem("unknown connection parameter\(plain ? " '\(item.name)'" : ""): retentiond reads only "
                        + parameters.joined(separator: " and ") + (plain ? Suggestion.hint(for: item.name, among: parameters) : ""), at: at)
            } else if values[item.name] != nil {
                problem("'\(item.name)' is given twice", at: at)
            } else {
                values[item.name] = item.value ?? ""
            }
        }
        var mode: SSLMode?
        if let raw = values["sslmode"] {
            let at = text.range(of: "sslmode=", range: (queryStart ?? text.startIndex)..<text.endIndex)?.upperBound
            let options = SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
            if let known = SSLMode(rawValue: raw) {
                mode = known
            } else if raw == "prefer" || raw == "allow" {
                problem("sslmode=\(raw) is not supported: it falls back to an unencrypted connection without saying so; expected one of \(options)", at: at)
            } else {
                let plain = raw.count <= 40 && raw.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
                problem("unknown sslmode\(plain ? " '\(raw)'" : ""): expected one of \(options)"
                        + (plain ? Suggestion.hint(for: raw, among: SSLMode.allCases.map(\.rawValue)) : ""), at: at)
            }
        }
        let host = url.host.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) }.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        let sslMode = mode ?? defaultSSLMode(for: host)
        let rootCert = values["sslrootcert"]
        if let rootCert {
            let at = text.range(of: "sslrootcert=", range: (queryStart ?? text.startIndex)..<text.endIndex)?.upperBound
            if rootCert.isEmpty {
                problem("'sslrootcert' needs a file of CA certificates (PEM), or 'system' for the system's CAs", at: at)
            } else if !sslMode.verifiesCertificate {
                problem("sslrootcert is used only to verify the server (sslmode=verify-full or verify-ca); with sslmode=\(sslMode.rawValue) nothing is checked against it", at: at)
            }
        }
        guard problems.isEmpty else { throw Invalid(problems: problems) }
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        let user = url.user.flatMap { $0.isEmpty ? nil : $0 } ?? "retentiond"
        return PostgresDSN(user: user, host: host, port: url.port ?? 5432, database: path.isEmpty ? nil : path,
                           sslMode: sslMode, sslModeGiven: mode != nil, sslRootCert: rootCert)
    }
}
