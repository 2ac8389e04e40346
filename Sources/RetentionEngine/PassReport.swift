import Foundation

/// What one pass did — or, for a dry run, what it would do, in the same terms: the jobs a dry
/// run would carry out are in `finished` as they would end (done with the count they would
/// touch, failed or cancelled with why), the jobs it would leave waiting in `waiting`. Jobs a dry
/// run would create have id 0.
package struct PassReport: Sendable {
    /// Whether nothing was written.
    package var dryRun = false
    /// Jobs that ran to the end in this pass (done, failed or cancelled).
    package var finished: [Job] = []
    /// Jobs left waiting, planned in this pass or before: for approval, for their grace window, behind a hold.
    package var waiting: [Job] = []
    /// In a dry run: the jobs that would be carried out to the end, as plan entries.
    package var wouldPlan: [PlanEntry] = []
    /// Erasures an obligation defers (the records restricted meanwhile where the store can).
    package var deferred: [DeferredErasure] = []
    /// Datasets skipped because of a hold on them or their store.
    package var heldDatasets: [(store: String, dataset: String, hold: Hold)] = []
    /// The pass stopped early because `stopRequested` said so.
    package var stopped = false
}
