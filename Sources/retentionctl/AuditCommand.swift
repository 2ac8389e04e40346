import ArgumentParser
import Foundation
import RetentionEngine

/// `retentionctl audit verify|export`.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify and export the audit trail (one record per finished job, chained by SHA-256, sealed with a key, anchored in the journal).",
        subcommands: [Verify.self, Head.self, Export.self]
    )

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that no audit record was altered, inserted, removed or cut off.",
            discussion: """
                The chain is checked against itself and the jobs table; with the key (--hmac-key or the \
                credential 'hmac-key'), every record's MAC; with --journal, --journal-file or --head, \
                against anchors kept outside the state database, which also show a cut-off tail. \
                Exits 1 when a problem is found, or when records carry MACs that neither the key nor \
                an anchor checked.
                """
        )

        @OptionGroup var state: StateLocation

        @Option(name: .customLong("hmac-key"), help: "File holding the hmac-key the audit key is derived from (default: the systemd credential 'hmac-key').")
        var hmacKeyPath: String?

        @Flag(help: "Compare with the anchors the daemon and retentionctl wrote to the journal (runs journalctl).")
        var journal = false

        @Option(name: .customLong("journal-file"), help: "Compare with the anchors in this saved 'journalctl -o json' output.")
        var journalFile: String?

        @Option(help: "Compare with a head noted earlier, SEQUENCE:HASH (as 'audit head' prints it; repeatable).")
        var head: [String] = []

        func validate() throws {
            for text in head where AuditAnchor(head: text) == nil {
                throw ValidationError("--head: expected SEQUENCE:HASH (a record number and its 64-digit lower-case hex hash, as 'retentionctl audit head' prints it); found '\(text)'")
            }
        }

        func run() throws {
            let state = try self.state.open(key: try StateLocation.loadKey(hmacKeyPath), anchoring: false)
            var anchors = head.compactMap { AuditAnchor(head: $0) }
            var journalAnchors: [AuditAnchor]?
            do {
                if journal { journalAnchors = try JournalAnchors.fromJournal(chain: state.chainID) }
                if let journalFile {
                    guard let data = FileManager.default.contents(atPath: journalFile) else {
                        throw AnchorError(message: "cannot read \(journalFile)")
                    }
                    journalAnchors = (journalAnchors ?? []) + (try JournalAnchors.parse(data, source: "journal"))
                }
            } catch {
                Output.error("retentionctl: \(error)")
                throw ExitCode(1)
            }
            anchors += journalAnchors ?? []
            let report = try state.verifyAudit(anchors: anchors)
            var problems = report.problems.map(\.description)
            if let journalAnchors, report.records > 0, !journalAnchors.contains(where: { $0.chain == state.chainID }) {
                // Asked to check against the journal and nothing there to check: not verified.
                let others = Set(journalAnchors.filter { $0.state == state.path }.compactMap(\.chain))
                problems.append("the journal holds no anchor of this chain (\(state.chainID))"
                                + (others.isEmpty ? ": rotated away, never written (no journald), or the chain's id was changed"
                                                  : "; it holds anchors of \(others.sorted().joined(separator: ", ")) for this same path: the chain's id was changed or the database replaced"))
            }
            for problem in problems { print(problem) }
            print(summary(report))
            if !problems.isEmpty {
                print("audit trail BROKEN: \(problems.count) problem\(problems.count == 1 ? "" : "s") in \(report.records) records")
                throw ExitCode(1)
            }
            if let unchecked = report.uncheckedMACs {
                print("audit trail NOT VERIFIED: records \(unchecked.lowerBound)…\(unchecked.upperBound) carry MACs, but no key was given to check "
                      + "them and no anchor covers them: give --hmac-key FILE (or run where the credential 'hmac-key' is), or compare with "
                      + "--journal or --head")
                throw ExitCode(1)
            }
            print("audit trail intact: \(report.records) records, chain verified")
        }

        /// What the chain was checked against, one line each.
        func summary(_ report: AuditReport) -> String {
            var lines: [String] = []
            if let keyedFrom = report.keyedFrom {
                lines.append(report.macsChecked ? "keyed from record \(keyedFrom): MACs checked with the audit key"
                                                : "keyed from record \(keyedFrom): MACs not checked (no key)")
            } else if report.records > 0 {
                lines.append("no record is keyed (appended without the credential 'hmac-key')")
            }
            if report.anchorsCompared > 0 {
                lines.append("\(report.anchorsCompared) anchor\(report.anchorsCompared == 1 ? "" : "s") compared"
                             + (report.anchoredThrough.map { ", confirming records up to \($0)" } ?? ""))
            }
            if let unanchored = report.unkeyedUnanchored, report.problems.isEmpty {
                lines.append("warning: records \(unanchored.lowerBound)…\(unanchored.upperBound) are neither keyed nor anchored: rewritten with "
                             + "recomputed hashes, they would still verify")
            }
            if let head = report.head { lines.append("head \(head) (note it outside this machine; verify --head \(head) later)") }
            return lines.joined(separator: "\n")
        }
    }

    struct Head: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the chain's last record as SEQUENCE:HASH, to keep outside this machine for 'audit verify --head'.")

        @OptionGroup var state: StateLocation

        func run() throws {
            let state = try self.state.open()
            guard let head = try state.auditHead() else {
                Output.error("retentionctl: the audit chain in \(state.path) is empty: no head yet")
                throw ExitCode(1)
            }
            print(head)
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the audit trail as JSON or CSV.")

        enum Format: String, ExpressibleByArgument { case json, csv }

        @OptionGroup var state: StateLocation

        @Option(help: "json or csv.")
        var format: Format = .json

        func run() throws {
            let state = try self.state.open()
            let records = try state.auditRecords()
            switch format {
            case .json: try printJSON(records)
            case .csv:
                let header = ["sequence", "job", "rule", "store", "dataset", "stage", "action", "outcome", "cutoff", "count",
                              "started_at", "finished_at", "keys_sha256", "previous_hash", "hash", "note", "mac"]
                let rows = records.map { r in
                    [String(r.sequence), String(r.job), r.rule, r.store, r.dataset, String(r.stage + 1), r.action, r.outcome, r.cutoff,
                     String(r.count), r.startedAt, r.finishedAt, r.keysSHA256, r.previousHash, r.hash, r.note ?? "", r.mac ?? ""]
                }
                print(TextTable.csv(header, rows), terminator: "")
            }
        }
    }
}
