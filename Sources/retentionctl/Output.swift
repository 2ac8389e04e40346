import Foundation

/// Lines for people on stderr (errors, warnings, notes, progress), apart from what a command
/// prints on stdout for people and programs to read.
enum Output {
    /// One line on stderr.
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// A status line overwritten in place on a terminal.
    static func progress(_ line: String) {
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }
}
