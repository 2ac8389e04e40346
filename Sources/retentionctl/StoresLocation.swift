import Foundation
import RetentionRules

/// Where the stores are read from: the paths given, else the installed directory.
enum StoresLocation {
    static func resolve(_ paths: [String]) throws(CommandFailure) -> [String] {
        if !paths.isEmpty { return paths }
        guard FileManager.default.fileExists(atPath: RetentionConfiguration.installedStores) else {
            throw CommandFailure("no stores given and \(RetentionConfiguration.installedStores) does not exist: name them with --stores", status: .usage)
        }
        return [RetentionConfiguration.installedStores]
    }
}
