import Foundation
import RetentionEngine
import RetentionRules
#if canImport(Glibc)
import Glibc
#endif

/// An external system reached through a program: each request is one JSON object on its stdin,
/// the answer one JSON object on its stdout; exit status 0 and `"status": "done"` mean done.
///
/// Requests: `{"operation": "count", ...}` answered by `{"count": N, "total": M}`, and
/// `{"operation": "execute", "job": ID, "action": ..., "cutoff": ..., ...}` answered by
/// `{"status": "done", "count": N, "keys": [...]}`. The program must be idempotent: after a
/// crash the same job is sent again. See docs/command-stores.md.
final class CommandConnection: StoreConnection {
    let store: Store
    let executable: String
    let timeout: Int

    init(store: Store, executable: String, timeout: Int) {
        self.store = store
        self.executable = executable
        self.timeout = timeout
    }

    struct Reply: Decodable {
        var status: String?
        var count: Int?
        var total: Int?
        var keys: [RecordKey]?
        var message: String?
    }

    func request(_ body: [String: Any]) async throws -> Reply {
        let input = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do { try process.run() } catch {
            throw StoreError(store: store.id, message: "cannot run \(executable): \(error.localizedDescription)")
        }
        try? stdin.fileHandleForWriting.write(contentsOf: input)
        try? stdin.fileHandleForWriting.close()
        let pid = process.processIdentifier
        let timeout = self.timeout
        let watchdog = Task {
            try await Task.sleep(for: .seconds(timeout))
            kill(pid, SIGTERM)
            try await Task.sleep(for: .seconds(5))
            kill(pid, SIGKILL)
        }
        // Read both pipes to the end before waiting, so a chatty program cannot block on a full pipe.
        async let output = Task.detached { stdout.fileHandleForReading.readDataToEndOfFile() }.value
        async let errors = Task.detached { stderr.fileHandleForReading.readDataToEndOfFile() }.value
        let (out, err) = await (output, errors)
        await Task.detached { process.waitUntilExit() }.value
        let timedOut = watchdog.isCancelled == false && process.terminationReason == .uncaughtSignal
        watchdog.cancel()
        let errorText = String(decoding: err.suffix(2000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if timedOut {
            throw StoreError(store: store.id, message: "\(executable) was stopped after its timeout of \(timeout) s")
        }
        guard process.terminationStatus == 0 else {
            throw StoreError(store: store.id, message: "\(executable) exited with status \(process.terminationStatus)"
                             + (errorText.isEmpty ? "" : ": \(errorText)"))
        }
        do {
            return try JSONDecoder().decode(Reply.self, from: out)
        } catch {
            throw StoreError(store: store.id, message: "\(executable) did not answer with a JSON object on stdout: "
                             + String(decoding: out.prefix(200), as: UTF8.self))
        }
    }

    func describe(_ dataset: Dataset, _ predicate: RecordPredicate) throws -> [String: Any] {
        let predicateJSON = try JSONSerialization.jsonObject(with: JSONEncoder().encode(predicate))
        return ["store": store.id, "dataset": dataset.id, "fields": dataset.fields, "predicate": predicateJSON]
    }

    func count(_ dataset: Dataset, where predicate: RecordPredicate) async throws -> Int {
        var body = try describe(dataset, predicate)
        body["operation"] = "count"
        guard let count = try await request(body).count else {
            throw StoreError(store: store.id, message: "\(executable) answered a count request without \"count\"")
        }
        return count
    }

    func total(_ dataset: Dataset) async throws -> Int {
        var body = try describe(dataset, .always)
        body["operation"] = "count"
        let reply = try await request(body)
        return reply.total ?? reply.count ?? 0
    }

    func execute(_ job: Job, change: Change, dataset: Dataset, predicate: RecordPredicate) async throws -> [RecordKey]? {
        var body = try describe(dataset, predicate)
        body["operation"] = "execute"
        body["job"] = job.id
        body["rule"] = job.rule
        body["stage"] = job.stage + 1
        body["action"] = job.action.rawValue
        body["cutoff"] = TimeText.iso(job.cutoff)
        if case .anonymize(let strategies, _, _, _) = change {
            body["anonymize"] = Dictionary(uniqueKeysWithValues: strategies.map { ($0.key, $0.value.description) })
        }
        if case .restrict(let column, _) = change { body["restrict"] = column }
        let reply = try await request(body)
        guard reply.status == "done", let count = reply.count else {
            throw StoreError(store: store.id, message: "\(executable) reported \(reply.status ?? "no status")"
                             + (reply.message.map { ": \($0)" } ?? ""))
        }
        // Without a key list the digest covers the count only: synthetic keys `#1`…`#N`.
        return reply.keys ?? (0..<count).map { .text("#\($0 + 1)") }
    }

    func keys(_ dataset: Dataset, where predicate: RecordPredicate, from start: BatchStart, limit: Int) async throws -> [RecordKey] { [] }
    func matching(_ dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey] { [] }
    func apply(_ change: Change, to dataset: Dataset, keys: [RecordKey], where predicate: RecordPredicate) async throws -> [RecordKey] { [] }
    func record(_ dataset: Dataset, key: RecordKey) async throws -> [String: StoreValue]? {
        throw StoreError(store: store.id, message: "a command store cannot show single records")
    }
    /// The program is asked for jobs, not records: a key cannot be looked up, so a record hold
    /// needs `--not-yet-stored` (the operator vouches for the key).
    func lookUp(_ dataset: Dataset, typed text: String) async throws -> KeyLookup {
        KeyLookup(key: .text(text), type: .text, found: .nothing)
    }
    func earliest(_ dataset: Dataset, column: String, where predicate: RecordPredicate) async throws -> Date? { nil }
    func close() async {}
}
