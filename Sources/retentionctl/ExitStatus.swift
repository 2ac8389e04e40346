/// retentionctl's exit statuses, as its --help, the README and docs/rule-tests.md promise them.
enum ExitStatus: Int32 {
    /// Done, and nothing wrong found.
    case success = 0
    /// Problems found (errors in a file, a failed rule test, a broken audit trail, a failed job),
    /// or the command could not do its work (a file it cannot read, a state database or a store
    /// that failed, a refused pass).
    case failure = 1
    /// The command line was wrong, or names nothing to work on (systemd's tools' 2, not sysexits' 64).
    case usage = 2
}
