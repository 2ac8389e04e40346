import Foundation

/// An executable this package builds, found beside the test bundle.
public enum BuiltProduct: Sendable {
    /// The path of `name` (`retentionctl`, `retentiond`): the environment variable `override` if set
    /// (to test another build), else the first of the test bundle's directory and its parents
    /// (`swift test` runs from a bundle one level deeper on some set-ups) that has it, else
    /// `.build/debug/NAME`.
    public static func path(_ name: String, override: String) -> String {
        if let path = ProcessInfo.processInfo.environment[override] { return path }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return Repository.root.appendingPathComponent(".build/debug/\(name)").path
    }
}
