import ArgumentParser
import CommandLineOptions
import Foundation
import RetentionEngine

extension AuditCommand {
    /// `retentionctl audit verify`: the chain against itself, the jobs, the key and the anchors.
    struct Verify: AsyncParsableCommand {
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

        @Option(help: "Compare with a head noted earlier, SEQUENCE:HASH (as 'audit head' prints it; repeatable).",
                transform: Verify.head)
        var head: [AuditAnchor] = []

        /// Reads `--head`.
        static func head(_ text: String) throws(OptionValueError) -> AuditAnchor {
            guard let anchor = AuditAnchor(head: text) else {
                throw OptionValueError(expected: "SEQUENCE:HASH (a record number and its 64-digit lower-case hex hash, "
                                       + "as 'retentionctl audit head' prints it)", found: text)
            }
            return anchor
        }

        func run() async throws {
            let state = try await self.state.open(key: try HMACKey.load(path: hmacKeyPath), anchoring: false)
            let journalAnchors = try self.journalAnchors(chain: state.chainID)
            let report = try await state.verifyAudit(anchors: head + (journalAnchors ?? []))
            var problems = report.problems.map(\.description)
            if let journalAnchors, report.records > 0, !journalAnchors.contains(where: { $0.chain == state.chainID }) {
                problems.append(Self.noJournalAnchor(of: state, among: journalAnchors))
            }
            for problem in problems { print(problem) }
            print(summary(report))
            if !problems.isEmpty {
                print("audit trail BROKEN: \(problems.count) problem\(problems.count == 1 ? "" : "s") in \(report.records) records")
                throw ExitCode.failure
            }
            if let unchecked = report.uncheckedMACs {
                print("audit trail NOT VERIFIED: records \(unchecked.lowerBound)…\(unchecked.upperBound) carry MACs, but no key was given to check "
                      + "them and no anchor covers them: give --hmac-key FILE (or run where the credential 'hmac-key' is), or compare with "
                      + "--journal or --head")
                throw ExitCode.failure
            }
            print("audit trail intact: \(report.records) records, chain verified")
        }

        /// The anchors in the journal (`--journal`) and in a saved export of it (`--journal-file`);
        /// nil when neither was asked for.
        func journalAnchors(chain: String) throws -> [AuditAnchor]? {
            var anchors: [AuditAnchor]?
            if journal { anchors = try JournalAnchors.fromJournal(chain: chain) }
            if let journalFile {
                guard let data = FileManager.default.contents(atPath: journalFile) else {
                    throw AnchorError(message: "cannot read \(journalFile)")
                }
                anchors = (anchors ?? []) + (try JournalAnchors.parse(data, source: "journal"))
            }
            return anchors
        }

        /// Asked to check against the journal and nothing there to check: not verified, and why it may be.
        static func noJournalAnchor(of state: any StateBackend, among anchors: [AuditAnchor]) -> String {
            let others = Set(anchors.filter { $0.state == state.location }.compactMap(\.chain))
            return "the journal holds no anchor of this chain (\(state.chainID))"
                + (others.isEmpty ? ": rotated away, never written (no journald), or the chain's id was changed"
                                  : "; it holds anchors of \(others.sorted().joined(separator: ", ")) for this same path: the chain's id was changed or the database replaced")
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
}
