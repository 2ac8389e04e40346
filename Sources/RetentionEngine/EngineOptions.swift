import Foundation

/// How the engine acts, for settings a dataset does not override.
package struct EngineOptions: Sendable {
    /// Records per batch (one store transaction each); nil adapts it to `batchTarget`.
    package var batchSize: Int?
    /// How long one batch should hold the store when the batch size is adapted: other writers of
    /// a SQLite database wait that long at most.
    var batchTarget: Duration = .milliseconds(20)
    /// Deleting more than this share of a dataset in one job waits for approval.
    package var maxDeleteShare = 0.25
    /// Deleting more than this many records in one job waits for approval (none by default).
    var maxDeleteCount: Int?
    /// Plan and count, but write nothing: neither the stores nor the state database.
    package var dryRun = false
    /// The longest plausible time between two passes, in seconds: a clock further ahead than this is refused
    /// until `retentionctl clock accept` (nil: not checked).
    package var maximumClockGap: Double? = 31 * 86_400
    /// Only this store / dataset.
    package var store: String?
    package var dataset: String?
    /// The key for `hmac-sha256`.
    package var hmacKey: HMACKey?
    /// Who acts (recorded with approvals, cancellations and holds).
    package var actor = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "retentiond"

    package init() {}

    /// Whether the store/dataset filters let this dataset through.
    func includes(store: String, dataset: String) -> Bool {
        (self.store.map { $0 == store } ?? true) && (self.dataset.map { $0 == dataset } ?? true)
    }
}
