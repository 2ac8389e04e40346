package import Foundation

/// A secret given either as a file an option names or as a systemd credential
/// (`LoadCredential=NAME:…`, found under `$CREDENTIALS_DIRECTORY`): the HMAC key, a PostgreSQL
/// password. One reading for every secret, so that all of them follow the same precedence.
package enum Credential: Sendable {
    /// What was found for one secret.
    package enum Found: Sendable {
        /// Neither a file was named nor the credential given: the secret is not configured.
        case absent
        case read(Data, file: String)
        /// The file named by the option could not be read (a missing credential is `absent`).
        case unreadable(file: String)
    }

    /// Reads `path` when given, else the credential `name`.
    package static func read(_ name: String, path: String?,
                             environment: [String: String] = ProcessInfo.processInfo.environment) -> Found {
        guard let file = path ?? environment["CREDENTIALS_DIRECTORY"].map({ $0 + "/" + name }) else { return .absent }
        if let data = FileManager.default.contents(atPath: file) { return .read(data, file: file) }
        return path == nil ? .absent : .unreadable(file: file)
    }
}
