import Foundation

extension PostgresDSN {
    /// Reads a DSN; `Invalid` lists every problem, none of which quotes the DSN.
    package static func parse(_ text: String) throws(Invalid) -> PostgresDSN {
        var reader = DSNReader(text: text)
        let url = try reader.url()
        reader.checkParts(of: url)
        let values = reader.parameters(of: url)
        let mode = reader.sslMode(values["sslmode"])
        let host = url.host.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) }.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        let sslMode = mode ?? defaultSSLMode(for: host)
        let rootCert = values["sslrootcert"]
        if let rootCert { reader.check(rootCert: rootCert, under: sslMode) }
        guard reader.problems.isEmpty else { throw Invalid(problems: reader.problems) }
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        let user = url.user.flatMap { $0.isEmpty ? nil : $0 } ?? "retentiond"
        return PostgresDSN(user: user, host: host, port: url.port ?? 5432, database: path.isEmpty ? nil : path,
                           sslMode: sslMode, sslModeGiven: mode != nil, sslRootCert: rootCert)
    }
}

/// The reading of one DSN's text, collecting every problem at its offset.
private struct DSNReader {
    let text: String
    var problems: [PostgresDSN.Problem] = []
    /// Whether a password was found (and reported) before the URL was parsed.
    var holdsPassword = false

    static let noPassword = "give it as a systemd credential (LoadCredential=postgres-password:…), never in the file"

    init(text: String) {
        self.text = text
    }

    mutating func problem(_ message: String, at index: String.Index? = nil) {
        let offset = index.map { text.unicodeScalars.distance(from: text.startIndex, to: $0) } ?? 0
        problems.append(PostgresDSN.Problem(message: message, offset: offset))
    }

    /// The text as a URL with a PostgreSQL scheme; throws when it cannot be one.
    mutating func url() throws(PostgresDSN.Invalid) -> URLComponents {
        let lowered = text.lowercased()
        guard let scheme = ["postgresql://", "postgres://"].first(where: { lowered.hasPrefix($0) }) else {
            let keyValue = text.contains("=") && !text.contains("://")
            problem("the dsn must be a URL postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=…]"
                    + (keyValue ? "; a key/value connection string (host=… dbname=…) is not accepted" : ""))
            if lowered.contains("password") { problem("the dsn holds a password: \(Self.noPassword)") }
            throw PostgresDSN.Invalid(problems: problems)
        }
        // A ':' before the last '@' ahead of the query separates a password from the user name,
        // also when the password holds a '/' that makes the rest no URL at all. (A database
        // name with '@' and a port before it reads as a password too: write it %40.)
        let afterScheme = text.index(text.startIndex, offsetBy: scheme.count)
        let beforeQuery = text[afterScheme..<(text[afterScheme...].firstIndex { "?#".contains($0) } ?? text.endIndex)]
        if let at = beforeQuery.lastIndex(of: "@"), let colon = beforeQuery[..<at].firstIndex(of: ":") {
            holdsPassword = true
            problem("the dsn holds a password: \(Self.noPassword)", at: colon)
        }
        guard let url = URLComponents(string: text) else {
            if !holdsPassword { problem("the dsn is not a well-formed URL postgresql://USER@HOST[:PORT]/DATABASE (a character that must be percent-encoded, or a bad port?)") }
            throw PostgresDSN.Invalid(problems: problems)
        }
        return url
    }

    /// A password, a fragment or a port out of range.
    mutating func checkParts(of url: URLComponents) {
        if url.password != nil, !holdsPassword {
            problem("the dsn holds a password: \(Self.noPassword)")
        }
        if url.fragment != nil {
            problem("the dsn has a '#' part, which means nothing to PostgreSQL", at: text.firstIndex(of: "#"))
        }
        if let port = url.port, !(1...65535).contains(port) {
            let afterScheme = text.range(of: "://").map(\.upperBound) ?? text.startIndex
            let authorityEnd = text[afterScheme...].firstIndex { "/?#".contains($0) } ?? text.endIndex
            problem("the port must be from 1 to 65535; found \(port)", at: text[afterScheme..<authorityEnd].lastIndex(of: ":"))
        }
    }

    /// Where `name=` starts in the query part (or the query's start).
    func position(of name: String, end: Bool = false) -> String.Index? {
        let queryStart = text.firstIndex(of: "?")
        let range = text.range(of: name + "=", range: (queryStart ?? text.startIndex)..<text.endIndex)
        return end ? range?.upperBound : range?.lowerBound ?? queryStart
    }

    /// The known query parameters, each once; a password, an unknown name or a repeat is a problem.
    mutating func parameters(of url: URLComponents) -> [String: String] {
        var values: [String: String] = [:]
        for item in url.queryItems ?? [] {
            let at = position(of: item.name)
            if item.name.lowercased() == "password" {
                problem("the dsn holds a password (?password=): \(Self.noPassword)", at: at)
            } else if !PostgresDSN.parameters.contains(item.name) {
                // The name is shown only when it is a plain word: anything else might be a secret.
                let plain = !item.name.isEmpty && item.name.count <= 40 && item.name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
                problem("unknown connection parameter\(plain ? " '\(item.name)'" : ""): retentiond reads only "
                        + PostgresDSN.parameters.joined(separator: " and ") + (plain ? Suggestion.hint(for: item.name, among: PostgresDSN.parameters) : ""), at: at)
            } else if values[item.name] != nil {
                problem("'\(item.name)' is given twice", at: at)
            } else {
                values[item.name] = item.value ?? ""
            }
        }
        return values
    }

    /// The `sslmode` given, if it is one retentiond supports.
    mutating func sslMode(_ raw: String?) -> PostgresDSN.SSLMode? {
        guard let raw else { return nil }
        let at = position(of: "sslmode", end: true)
        let options = PostgresDSN.SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
        if let known = PostgresDSN.SSLMode(rawValue: raw) { return known }
        if raw == "prefer" || raw == "allow" {
            problem("sslmode=\(raw) is not supported: it falls back to an unencrypted connection without saying so; expected one of \(options)", at: at)
        } else {
            let plain = raw.count <= 40 && raw.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            problem("unknown sslmode\(plain ? " '\(raw)'" : ""): expected one of \(options)"
                    + (plain ? Suggestion.hint(for: raw, among: PostgresDSN.SSLMode.allCases.map(\.rawValue)) : ""), at: at)
        }
        return nil
    }

    mutating func check(rootCert: String, under sslMode: PostgresDSN.SSLMode) {
        let at = position(of: "sslrootcert", end: true)
        if rootCert.isEmpty {
            problem("'sslrootcert' needs a file of CA certificates (PEM), or 'system' for the system's CAs", at: at)
        } else if !sslMode.verifiesCertificate {
            problem("sslrootcert is used only to verify the server (sslmode=verify-full or verify-ca); with sslmode=\(sslMode.rawValue) nothing is checked against it", at: at)
        }
    }
}
