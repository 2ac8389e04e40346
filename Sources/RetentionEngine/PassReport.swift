import Foundation

/// What one pass did — or, for a dry run, what it would do, in the same terms: the jobs a dry
/// run would carry out are in `finished` as they would end (done with the count they would
/// touch, failed or cancelled with why), the jobs it would leave waiting in `waiting`. Jobs a dry
/// run would create have id 0.
public struct PassReport: Sendable {
    /// Whether nothing was written.
    public var dryRun = false
    /// Jobs that ran to the end in this pass (done, failed or cancelled).
    public var finished: [Job] = []
    /// Jobs left waiting, planned in this pass or before: for approval, for their grace window, behind a hold.
    public var waiting: [Job] = []
    /// In a dry run: the jobs that would be carried out to the end, as plan entries.
    public var wouldPlan: [PlanEntry] = []
    /// Erasures an obligation defers (the records restricted meanwhile where the store can).
    public var deferred: [DeferredErasure] = []
    /// Datasets skipped because of a hold on them or their store.
    public var heldDatasets: [(store: String, dataset: String, hold: Hold)] = []
    /// The pass stopped early because `stopRequested` said so.
    public var stopped = false
}
