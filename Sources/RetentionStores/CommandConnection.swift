import Foundation
import RetentionEngine
import RetentionRules

/// An external system reached through a program: each request is one JSON object on its stdin,
/// the answer one JSON object on its stdout; exit status 0 and `"status": "done"` mean done.
///
/// Requests: `{"operation": "count", ...}` answered by `{"count": N, "total": M}`, and
/// `{"operation": "execute", "job": ID, "action": ..., "cutoff": ..., ...}` answered by
/// `{"status": "done", "count": N, "keys": [...]}`. The program must be idempotent: after a
/// crash the same job is sent again. What the program gets and how it is bounded (environment,
/// process group, deadline, output limit) is `CommandProgram`'s; the reply is read by
/// `CommandReply.decode`. See docs/engine.md § Command stores.
final class CommandConnection: JobExecutor {
    let store: Store
    let program: CommandProgram

    init(store: Store, executable: String, timeout: Int) {
        self.store = store
        self.program = CommandProgram(executable: executable, timeout: .seconds(timeout))
    }

    /// Sends one request; `what` says which (`count request for dataset events`) in errors.
    func request(_ body: [String: Any], what: String) async throws -> CommandReply {
        let input = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let outcome: CommandProgram.Outcome
        do { outcome = try await program.run(request: Array(input)) } catch {
            throw failure(what, Self.explain(error, program))
        }
        let errorText = String(decoding: outcome.errorTail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let stderr = errorText.isEmpty ? "" : ": \(errorText)"
        guard outcome.termination == .exited(0) else {
            throw failure(what, "\(outcome.termination)\(stderr)")
        }
        if outcome.requestUnread {
            throw failure(what, "exited without reading its whole request of \(input.count) bytes\(stderr)")
        }
        do { return try CommandReply.decode(outcome.output) } catch {
            throw failure(what, "did not answer with one JSON object on stdout: \(error)")
        }
    }

    static func explain(_ failure: CommandProgram.Failure, _ program: CommandProgram) -> String {
        switch failure {
        case .cannotStart(let reason): "cannot be started: \(reason)"
        case .timedOut:
            "was stopped after its timeout of \(program.timeout.components.seconds) s (SIGTERM to its process group, "
                + "SIGKILL \(program.killGrace.components.seconds) s later)"
        case .outputTooLarge: "wrote a reply larger than \(program.maxOutputBytes) bytes on stdout; its process group was killed"
        case .cancelled: "was stopped because the pass was cancelled"
        }
    }

    func failure(_ what: String, _ message: String) -> StoreError {
        StoreError(store: store.id, message: "\(program.executable) (\(what)) \(message)")
    }

    func describe(_ dataset: Dataset, _ predicate: RecordPredicate) throws -> [String: Any] {
        let predicateJSON = try JSONSerialization.jsonObject(with: JSONEncoder().encode(predicate))
        return ["store": store.id, "dataset": dataset.id, "fields": dataset.fields, "predicate": predicateJSON]
    }

    func count(_ dataset: Dataset, where predicate: RecordPredicate) async throws -> Int {
        var body = try describe(dataset, predicate)
        body["operation"] = "count"
        let what = "count request for dataset \(dataset.id)"
        guard let count = try await request(body, what: what).count else {
            throw failure(what, "answered without \"count\"")
        }
        return count
    }

    func total(_ dataset: Dataset) async throws -> Int {
        var body = try describe(dataset, .always)
        body["operation"] = "count"
        let reply = try await request(body, what: "count request for dataset \(dataset.id)")
        return reply.total ?? reply.count ?? 0
    }

    func execute(_ job: Job, change: Change, dataset: Dataset, predicate: RecordPredicate) async throws -> [RecordKey] {
        var body = try describe(dataset, predicate)
        body["operation"] = "execute"
        body["job"] = job.id
        body["rule"] = job.rule
        body["stage"] = job.stage + 1
        body["action"] = job.action.rawValue
        body["cutoff"] = InstantText.format(job.cutoff)
        if case .anonymize(let strategies, _, _, _) = change {
            body["anonymize"] = Dictionary(uniqueKeysWithValues: strategies.map { ($0.key, $0.value.description) })
        }
        if case .restrict(let column, _) = change { body["restrict"] = column }
        let what = "execute request for job \(job.id)"
        let reply = try await request(body, what: what)
        guard reply.status == "done", let count = reply.count else {
            throw failure(what, "reported \(reply.status.map { "status \"\($0)\"" } ?? "no status")"
                          + (reply.status == "done" ? " without \"count\"" : "") + (reply.message.map { ": \($0)" } ?? ""))
        }
        // Without a key list the digest covers the count only: synthetic keys `#1`…`#N`.
        return reply.keys ?? (0..<count).map { .text("#\($0 + 1)") }
    }

    /// The program is asked for jobs, not records: a key cannot be looked up, so a record hold
    /// needs `--not-yet-stored` (the operator vouches for the key).
    func lookUp(_ dataset: Dataset, typed text: String) async throws -> KeyLookup {
        KeyLookup(key: .text(text), type: .text, found: .nothing)
    }
    func close() async {}
}
