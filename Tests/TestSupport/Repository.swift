public import Foundation

/// The checkout the tests run from: seeds, fixtures, docs and scripts are read from it.
public enum Repository: Sendable {
    /// The repository's top directory (this file is `Tests/TestSupport/Repository.swift`).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
}
