import Foundation

/// A directory under the system's temporary directory, removed when the value goes away.
public final class TemporaryDirectory: Sendable {
    public let path: String

    /// Creates the directory, named `prefix` and a random suffix.
    public init(prefix: String = "retentiond-test-") {
        path = NSTemporaryDirectory() + prefix + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A directory the caller removes itself (a scenario that outlives one value).
    public static func kept(prefix: String = "retentiond-test-") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(prefix + UUID().uuidString.prefix(8)).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
