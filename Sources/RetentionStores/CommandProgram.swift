import RetentionEngine
import Subprocess
import Synchronization
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// One run of a command store's program: the request on its stdin, the reply from its stdout.
///
/// What holds whatever the program does:
/// - it gets an environment of its own, `environment`, and nothing of retentiond's (no
///   `$CREDENTIALS_DIRECTORY`, no `NOTIFY_SOCKET`), no descriptor but its three pipes, default
///   signal dispositions, and `/` as working directory;
/// - it runs in a process group of its own; at `timeout` the whole group gets SIGTERM, `killGrace`
///   later SIGKILL, and the call returns then even if a descendant that left the group still holds
///   the pipes open; whatever is left of the group when the call ends is killed too;
/// - stdout is read up to `maxOutputBytes`: beyond that the group is killed and the call fails;
///   of stderr only the last `keptErrorBytes` are kept (the rest is read and dropped);
/// - a program that exits without reading its request does not kill retentiond (SIGPIPE is
///   ignored; the short write is reported);
/// - every read and write is non-blocking, driven by swift-subprocess's own epoll thread: nothing
///   blocks a thread of Swift's cooperative pool;
/// - while it waits, the call beats `StoreHeartbeat` until the deadline and the grace have passed.
struct CommandProgram: Sendable {
    var executable: String
    var timeout: Duration
    var killGrace: Duration = .seconds(5)
    var environment: [String: String] = Self.environment
    var maxOutputBytes = CommandReply.Limits().maxBytes
    var keptErrorBytes = 2000

    /// All a program gets from retentiond's environment: a fixed search path and a UTF-8 locale.
    static let environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"]

    /// How a run ended.
    struct Outcome: Sendable {
        var termination: Termination
        /// stdout, complete (at most `maxOutputBytes`).
        var output: [UInt8]
        /// The end of stderr.
        var errorTail: [UInt8]
        /// The program closed its stdin (exited, say) before the whole request was in the pipe.
        var requestUnread: Bool
    }

    enum Termination: Sendable, Hashable {
        case exited(Int32)
        case signalled(Int32)
    }

    /// Why there is no outcome to judge.
    enum Failure: Error, Sendable {
        case cannotStart(String)
        /// The deadline passed: the group got SIGTERM, and SIGKILL after the grace.
        case timedOut
        /// stdout went past `maxOutputBytes`: the group was killed.
        case outputTooLarge
        /// The calling task was cancelled: the group got the same teardown as at the deadline.
        case cancelled
    }

    func run(request: [UInt8]) async throws(Failure) -> Outcome {
        Self.ignoreBrokenPipes()
        let deadline = ContinuousClock.now + timeout
        let observer = StoreHeartbeat.observer
        // Beats stop once the call should have ended whatever the program did: a call stuck beyond
        // that (a child in uninterruptible sleep) is the watchdog's business.
        let beatsUntil = deadline + killGrace + .seconds(1)
        let group = GroupID()
        let ending = await withTaskGroup(of: Ending.self) { tasks in
            tasks.addTask { await self.spawn(request, group: group) }
            tasks.addTask {
                do { try await Task.sleep(until: deadline) } catch { return .stopped }
                return .deadline
            }
            if let observer {
                tasks.addTask {
                    while ContinuousClock.now < beatsUntil {
                        observer()
                        do { try await Task.sleep(for: StoreHeartbeat.interval) } catch { break }
                    }
                    return .stopped
                }
            }
            var ending = Ending.stopped
            while let next = await tasks.next() {
                switch next {
                case .stopped: continue
                case .deadline:
                    // The deadline is the program's: one that ended in time while this task waited
                    // for a thread (a busy pool) is not stopped, its run finishes by itself.
                    let id = group.value.load(ordering: .acquiring)
                    if id > 0, Self.hasExited(id) { continue }
                    // Cancelling the run makes swift-subprocess play the teardown sequence on the
                    // group; the task group then waits for it before returning.
                    ending = .deadline
                    tasks.cancelAll()
                case .finished, .failed:
                    if case .stopped = ending { ending = next }
                    tasks.cancelAll()
                }
            }
            return ending
        }
        // Whatever of the group outlived its leader (a background child that kept the group) goes
        // too: nothing a program starts outlives its call. The leader is reaped by now, so the id is
        // only still a group's while such a member lives; `ESRCH` means nothing was left.
        let id = group.value.load(ordering: .acquiring)
        if id > 0 { kill(-id, SIGKILL) }
        switch ending {
        case .finished(let outcome): return outcome
        case .failed(let failure): throw failure
        case .deadline: throw .timedOut
        case .stopped: throw .cancelled
        }
    }

    private enum Ending: Sendable {
        case finished(Outcome)
        case failed(Failure)
        case deadline
        case stopped
    }

    /// What the reading and writing tasks of one run found.
    private enum Part: Sendable {
        case written(Int)
        case output([UInt8], overflowed: Bool)
        case errors([UInt8])
    }

    /// The program's process group, once it runs (0 before).
    private final class GroupID: Sendable {
        let value = Atomic<Int32>(0)
    }

    private func spawn(_ request: [UInt8], group: GroupID) async -> Ending {
        var options = PlatformOptions()
        options.processGroupID = 0  // a new group whose id is the program's pid
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: killGrace)]
        var environment: [Environment.Key: String] = [:]
        for (name, value) in self.environment { environment[Environment.Key(stringLiteral: name)] = value }
        let maxOutputBytes = self.maxOutputBytes, keptErrorBytes = self.keptErrorBytes
        do {
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: [], environment: .custom(environment), workingDirectory: FilePath("/"),
                platformOptions: options, input: .inputWriter, output: .sequence, error: .sequence
            ) { execution in
                group.value.store(execution.processIdentifier.value, ordering: .releasing)
                return try await withThrowingTaskGroup(of: Part.self) { parts in
                    let writer = execution.standardInputWriter, output = execution.standardOutput, errors = execution.standardError
                    parts.addTask { await Self.write(request, to: writer) }
                    parts.addTask { await Self.read(output, upTo: maxOutputBytes) { try? execution.send(signal: .kill, toProcessGroup: true) } }
                    parts.addTask { await Self.tail(of: errors, keeping: keptErrorBytes) }
                    var outcome = Outcome(termination: .exited(0), output: [], errorTail: [], requestUnread: false)
                    var overflowed = false
                    for try await part in parts {
                        switch part {
                        case .written(let count): outcome.requestUnread = count < request.count
                        case .output(let bytes, let over): outcome.output = bytes; overflowed = over
                        case .errors(let tail): outcome.errorTail = tail
                        }
                    }
                    return (outcome, overflowed)
                }
            }
            let (collected, overflowed) = result.closureResult
            if overflowed { return .failed(.outputTooLarge) }
            var outcome = collected
            switch result.terminationStatus {
            case .exited(let code): outcome.termination = .exited(code)
            case .signaled(let number): outcome.termination = .signalled(number)
            }
            return .finished(outcome)
        } catch let error as SubprocessError {
            return .failed(.cannotStart("\(error)"))
        } catch {
            // Cancelled by the deadline: the teardown has run.
            return .stopped
        }
    }

    /// Writes the request and closes stdin. A program that exits unread makes the write fail
    /// (EPIPE, SIGPIPE being ignored) or end short (the program's exit cancels the wait for room).
    private static func write(_ request: [UInt8], to writer: StandardInputWriter) async -> Part {
        let written = (try? await writer.write(request)) ?? 0
        try? await writer.finish()
        return .written(written)
    }

    /// Reads stdout to its end, or kills the program's group once it passes `limit` bytes (which
    /// ends the writer and the stderr reader too).
    private static func read(_ output: SubprocessOutputSequence, upTo limit: Int, kill: @Sendable () -> Void) async -> Part {
        var bytes: [UInt8] = []
        do {
            for try await buffer in output {
                guard bytes.count + buffer.count <= limit else {
                    kill()
                    return .output(bytes, overflowed: true)
                }
                buffer.withUnsafeBytes { bytes.append(contentsOf: $0) }
            }
        } catch {}
        return .output(bytes, overflowed: false)
    }

    /// The last `kept` bytes of stderr, read to its end.
    private static func tail(of errors: SubprocessOutputSequence, keeping kept: Int) async -> Part {
        var tail: [UInt8] = []
        do {
            for try await buffer in errors {
                buffer.withUnsafeBytes { tail.append(contentsOf: $0) }
                if tail.count > 2 * kept { tail.removeFirst(tail.count - kept) }
            }
        } catch {}
        return .errors(Array(tail.suffix(kept)))
    }

    /// Whether the child `pid` has ended, without reaping it (swift-subprocess does that).
    private static func hasExited(_ pid: Int32) -> Bool {
        var info = siginfo_t()
        // ECHILD: already reaped. With WNOHANG and nothing to report, si_signo stays 0.
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return errno == ECHILD }
        return info.si_signo != 0
    }

    /// A write to a pipe whose reader is gone raises SIGPIPE, whose default action ends the whole
    /// daemon; ignored, the write fails with EPIPE instead. Programs do not inherit this:
    /// swift-subprocess resets every signal to its default in the child.
    private static func ignoreBrokenPipes() { _ = brokenPipesIgnored }
    private static let brokenPipesIgnored: Void = { signal(SIGPIPE, SIG_IGN) }()
}

extension CommandProgram.Termination: CustomStringConvertible {
    /// "exited with status 3", "was killed by signal 9 (SIGKILL)".
    var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signalled(let number): "was killed by signal \(number)" + (Self.names[number].map { " (\($0))" } ?? "")
        }
    }

    /// Linux's numbers (x86-64 and arm64 agree on all of these).
    static let names: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT",
        SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1", SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2",
        SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ", SIGSYS: "SIGSYS",
    ]
}
