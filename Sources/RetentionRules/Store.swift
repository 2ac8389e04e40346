import Foundation

/// A registered place holding personal data, as an operator declares it in a stores file.
public struct Store: Sendable, Hashable, Identifiable {
    /// What kind of place it is, and so which actions it can take.
    package enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A SQLite database file.
        case sqlite
        /// A PostgreSQL database.
        case postgres
        /// A directory of files.
        case files
        /// An external program that receives jobs as JSON on stdin.
        case command

        /// The actions this kind of store can carry out; files can only be deleted.
        var actions: Set<Action> {
            self == .files ? [.delete] : [.delete, .anonymize, .restrict]
        }
    }

    /// The store's name, unique across the stores files.
    public var id: String
    package var kind: Kind
    /// The database file (sqlite) or the directory (files).
    package var path: String?
    /// The connection string (postgres); the password comes from a credential, never the file.
    package var dsn: String?
    /// The program (command).
    package var exec: String?
    /// How long a command may take per job, in seconds.
    package var timeoutSeconds: Int?
    /// The datasets of the store.
    public var datasets: [Dataset]
    /// Where the store's name is written.
    package var location: SourceLocation
    /// PostgreSQL: send the password when the server asks for it in cleartext
    /// (`allow-cleartext-password: true`); refused otherwise, whatever the TLS mode.
    package var allowCleartextPassword = false
}

extension Store {
    /// A path written in the stores file, made absolute: a relative one is relative to that file's directory.
    package func resolve(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return (path as NSString).standardizingPath }
        let directory = (location.file as NSString).deletingLastPathComponent
        let base = directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + (directory.isEmpty ? "" : "/" + directory)
        return (base + "/" + path as NSString).standardizingPath
    }
}

/// One table (or file pattern) of a store, bound to rules, mapping the rules' logical fields to
/// its columns.
public struct Dataset: Sendable, Hashable, Identifiable {
    /// The dataset's name, unique within its store.
    public var id: String
    /// The table (sqlite, postgres), or nil for files and commands.
    package var table: String?
    /// The key column: batches go in key order and holds name keys.
    package var key: String?
    /// A glob on file names (files).
    package var match: String?
    /// The rules that apply, by id.
    public var rules: [String]
    /// Logical field → column (or `mtime`/`ctime`/`birthtime` for files).
    package var fields: [String: String]
    /// Column → strategy, for `anonymize` stages.
    package var anonymize: [String: AnonymizationStrategy]
    /// The column set by `restrict` stages to the time of restriction; null means not restricted.
    package var restrictColumn: String?
    /// The column set by `anonymize` stages to the time of anonymization, so that a record is never
    /// anonymized twice; needed unless every strategy is `null` or a fixed value.
    package var anonymizedColumn: String?
    /// Batch size, guard and grace, where the operator set them for this dataset.
    package var limits: DatasetLimits
    /// Files: remove directories that a purge left empty.
    package var removeEmptyDirectories: Bool
    /// Where the dataset is declared.
    package var location: SourceLocation
    /// Where each setting is written: `table`, `key`, `restrict`, `anonymized-at`, `fields.FIELD`,
    /// `anonymize.COLUMN`; so that a check against the live store points at the line to change.
    var locations: [String: SourceLocation] = [:]
    /// PostgreSQL: what a delete job does with a wholly due partition of the table (`partitions:`).
    package var partitions: PartitionMode = .drop

    /// Where `setting` is written, or the dataset's own name when it is not.
    package func location(of setting: String) -> SourceLocation {
        locations[setting] ?? location
    }
}

/// Per-dataset settings of the job engine; nil means the engine's default.
package struct DatasetLimits: Sendable, Hashable {
    /// Records per batch: each batch is one transaction in the store.
    package var batchSize: Int?
    /// A job that would delete more than this share (0–1) of the dataset waits for approval.
    package var maxDeleteShare: Double?
    /// A job that would delete more than this many records waits for approval.
    package var maxDeleteCount: Int?
    /// How long a job waits after planning, during which `retentionctl cancel` stops it.
    package var grace: Period?

    package init(batchSize: Int? = nil, maxDeleteShare: Double? = nil, maxDeleteCount: Int? = nil, grace: Period? = nil) {
        self.batchSize = batchSize
        self.maxDeleteShare = maxDeleteShare
        self.maxDeleteCount = maxDeleteCount
        self.grace = grace
    }
}

/// How one column is anonymized.
package enum AnonymizationStrategy: Sendable, Hashable, CustomStringConvertible {
    /// Set to NULL.
    case null
    /// Replaced by a fixed value.
    case fixed(String)
    /// Replaced by HMAC-SHA256 under a key from a file or systemd credential: joins still work.
    case hmacSHA256
    /// IPv4 to its /24, IPv6 to its /48.
    case truncateIP
    /// A date generalised to the first of its month.
    case month

    /// Whether a record's anonymized state can be read off the column itself (so no marker column
    /// is needed to avoid anonymizing twice).
    var isRecognisable: Bool {
        switch self {
        case .null, .fixed: true
        case .hmacSHA256, .truncateIP, .month: false
        }
    }

    /// The spelling in a stores file.
    package var description: String {
        switch self {
        case .null: "null"
        case .fixed(let value): "{fixed: \(value)}"
        case .hmacSHA256: "hmac-sha256"
        case .truncateIP: "truncate-ip"
        case .month: "month"
        }
    }

    static let names = ["null", "hmac-sha256", "truncate-ip", "month"]

    /// Reads `null`, `hmac-sha256`, `truncate-ip` or `month`; a fixed value is `{fixed: VALUE}`.
    static func parse(_ text: String) -> AnonymizationStrategy? {
        switch text {
        case "null": .null
        case "hmac-sha256": .hmacSHA256
        case "truncate-ip": .truncateIP
        case "month": .month
        default: nil
        }
    }
}
