import Foundation
import RetentionEngine
import RetentionRules

/// A job as `jobs --format json` (and `run --format json`) prints it; stages count from 1, as
/// rule authors do.
struct JobView: Encodable {
    var id: Int64, store: String, dataset: String, rule: String, stage: Int, action: String, state: String
    var reason: String?, cutoff: String, plannedAt: String, notBefore: String, plannedCount: Int, datasetTotal: Int?
    var doneCount: Int, startedAt: String?, finishedAt: String?, decidedBy: String?, violation: Bool, note: String?

    init(_ job: Job) {
        (id, store, dataset, rule, stage, action, state) = (job.id, job.store, job.dataset, job.rule, job.stage + 1, job.action.rawValue, job.state.rawValue)
        (reason, cutoff, plannedAt, notBefore) = (job.reason, InstantText.format(job.cutoff), InstantText.format(job.plannedAt), InstantText.format(job.notBefore))
        (plannedCount, datasetTotal, doneCount) = (job.plannedCount, job.datasetTotal, job.doneCount)
        (startedAt, finishedAt, decidedBy, violation) = (job.startedAt.map(InstantText.format), job.finishedAt.map(InstantText.format), job.decidedBy, job.isViolation)
        note = job.note
    }
}
