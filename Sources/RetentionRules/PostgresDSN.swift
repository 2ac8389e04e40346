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
}
