/// How many records the next batch of a job takes.
///
/// A fixed number when the dataset (`batch-size:`) or the command line sets one. Otherwise it is
/// adapted from what the batches so far took: aiming at `target` per batch, because a batch is one
/// write transaction and the store's other writers wait for it (SQLite's write lock is the whole
/// database's). Small batches cost a state-database commit each; big ones block others for long.
struct BatchSizer: Sendable {
    /// The first batch's size, before anything is known about the store.
    static let initial = 1000
    static let smallest = 20
    static let largest = 50_000

    let fixed: Int?
    let target: Duration
    private(set) var size: Int

    init(fixed: Int?, target: Duration) {
        self.fixed = fixed
        self.target = target
        size = fixed ?? Self.initial
    }

    /// Learns from one batch: `records` taken, applied in `took`.
    mutating func record(_ records: Int, took: Duration) {
        guard fixed == nil, records > 0 else { return }
        let ideal = took > .zero ? Double(records) * (target / took) : Double(Self.largest)
        // Grow at most twofold per batch (a first batch on a cold cache says little), shrink at once
        // (a batch that held the lock too long must not be repeated).
        let next = min(ideal, Double(size) * 2)
        size = max(Self.smallest, min(Self.largest, Int(next.rounded())))
    }
}
