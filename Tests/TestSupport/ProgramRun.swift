public import Foundation

/// A program run to its end: its exit status and what it printed.
public struct ProgramRun: Sendable {
    public var status: Int32
    public var stdout: String
    /// Empty when the run merged standard error into `stdout`.
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Runs `executable` with `arguments` and waits for it. `environment` adds to (and overrides)
    /// the test's own; `standardError` says where the program's standard error goes.
    public static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String] = [:], standardError: StandardError = .separate) throws -> ProgramRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        switch standardError {
        case .separate: process.standardError = err
        case .merged: process.standardError = out
        case .discarded: process.standardError = FileHandle.nullDevice
        }
        try process.run()
        // Standard error is read on another thread: a program that fills one pipe while the test
        // waits on the other would never end.
        let errors = ErrorPipeReader(standardError == .separate ? err : nil)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProgramRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: errors.text())
    }

    /// Where a program's standard error goes.
    public enum StandardError: Sendable {
        case separate, merged, discarded
    }
}

/// Reads a pipe to its end on a thread of its own.
private final class ErrorPipeReader: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)
    private let active: Bool

    init(_ pipe: Pipe?) {
        active = pipe != nil
        guard let pipe else { return }
        Thread.detachNewThread { [self] in
            data = pipe.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
    }

    func text() -> String {
        guard active else { return "" }
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
