import Foundation

/// Paths of the fixtures and of the repository's own rules, found from this source file so that
/// tests need no bundle resources.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let repository = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let rules = repository.appendingPathComponent("rules")
    static let seeds = repository.deletingLastPathComponent().appendingPathComponent("shared/seeds")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}
