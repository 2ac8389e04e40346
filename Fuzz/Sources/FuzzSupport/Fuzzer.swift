import CFuzzer
import Glibc

/// What a fuzz target does with one input: the bytes libFuzzer made up.
public typealias FuzzTarget = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// Runs libFuzzer with `target` and the process's arguments (`-max_total_time=`, corpus
/// directories, ...) and exits with its status.
///
/// SwiftPM links every executable with its entry point renamed (`--defsym main=Target_main`, so
/// that tests can link executables), which hides libFuzzer's own `main`; the targets therefore
/// have a Swift `@main` that calls libFuzzer's driver.
public func runFuzzer(_ target: FuzzTarget) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, target))
}

/// The input as text, invalid UTF-8 replaced: the parsers take `String`s.
public func text(_ data: UnsafePointer<UInt8>?, _ size: Int) -> String {
    guard let data else { return "" }
    return String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
}

/// Stops with `message` when an invariant does not hold. Not `precondition`, whose message an
/// optimised build drops: the message is what says which invariant a crash input broke.
public func require(_ condition: Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError(message(), file: file, line: line) }
}
