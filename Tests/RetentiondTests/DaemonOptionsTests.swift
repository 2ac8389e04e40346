import Foundation
import Testing

/// retentiond reads its periods as the rules files write them, and refuses the rest as the command
/// line is parsed, naming the option, the value and what it takes.
@Suite("retentiond options")
struct DaemonOptionsTests {
    @Test("a period option refuses what the rules language refuses (the ambiguous m, minutes, seconds, zero) and says what it takes", arguments: [
        (["--interval", "5m"], "The value '5m' is invalid for '--interval <interval>': '5m' is ambiguous (minutes or months?): write 5mo for months; "
            + "expected a whole number and a unit: h, d, w, mo or y"),
        (["--interval", "15min"], "The value '15min' is invalid for '--interval <interval>': 'min' is too fine a unit"),
        (["--interval", "30s"], "The value '30s' is invalid for '--interval <interval>': 's' is too fine a unit"),
        (["--interval", "0h"], "The value '0h' is invalid for '--interval <interval>': '0h' is no time at all; expected a period above zero"),
        (["--max-clock-jump", "2m"], "The value '2m' is invalid for '--max-clock-jump <max-clock-jump>': '2m' is ambiguous"),
        (["--log-level", "loud"], "The value 'loud' is invalid for '--log-level <log-level>': expected one of trace, debug, info, notice, warning, error or critical; found 'loud'"),
        (["--batch-size", "0"], "The value '0' is invalid for '--batch-size <batch-size>': expected a whole number above 0; found '0'"),
        (["--lease-duration", "10"], "--lease-duration must be more than 10 seconds (a claim must outlast the longest wait inside a batch: "
            + "a SQLite store's busy timeout and the state database's lock timeout, 10 s each); found 10"),
        (["--lease-duration=-30"], "10 s each); found -30"),
        (["--lease-duration", "0"], "--lease-duration must be more than 10 seconds"),
        (["--lease-duration", "30s"], "The value '30s' is invalid for '--lease-duration <seconds>'"),
    ])
    func refused(arguments: [String], message: String) throws {
        let run = try Support.run([Support.binary, "--once"] + arguments)
        // The argument parser's status for a command line it refuses (EX_USAGE).
        #expect(run.status == 64, "\(run.output)")
        #expect(run.output.contains(message), "\(run.output)")
    }
}
