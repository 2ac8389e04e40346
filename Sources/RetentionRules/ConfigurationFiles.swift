import Foundation

/// Why rules or stores could not be read at all, as opposed to a problem inside a file.
package struct ConfigurationReadError: Error, Sendable, CustomStringConvertible {
    /// The path given.
    package var path: String
    /// What went wrong.
    var reason: String

    package var description: String { "cannot read '\(path)': \(reason)" }
}

/// Finding and reading rules and stores files: named files, and the YAML files of named
/// directories, as `rules.d/` and `stores.d/` hold them.
package enum ConfigurationFiles: Sendable {
    /// The `*.yaml` and `*.yml` files of a directory, in name order, hidden files skipped.
    package static func yamlFiles(in directory: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        return names.filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }
            .sorted()
            .map { directory.hasSuffix("/") ? directory + $0 : directory + "/" + $0 }
    }

    /// The files named, and the YAML files of the directories named, in order.
    static func filePaths(_ paths: [String]) throws(ConfigurationReadError) -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ConfigurationReadError(path: path, reason: "no such file or directory")
            }
            if isDirectory.boolValue {
                do {
                    files += try yamlFiles(in: path)
                } catch {
                    throw ConfigurationReadError(path: path, reason: "cannot list the directory (\(error.localizedDescription))")
                }
            } else {
                files.append(path)
            }
        }
        return files
    }

    /// Every file of `paths` with its UTF-8 text.
    package static func texts(_ paths: [String]) throws(ConfigurationReadError) -> [(file: String, text: String)] {
        var texts: [(file: String, text: String)] = []
        for file in try filePaths(paths) {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ConfigurationReadError(path: file, reason: "cannot read the file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationReadError(path: file, reason: "the file is not UTF-8 text")
            }
            texts.append((file, text))
        }
        return texts
    }
}
