import Foundation
import RetentionEngine

/// A pass as `run --format json` prints it.
struct PassView: Encodable {
    var dryRun: Bool
    var finished: [JobView]
    var waiting: [JobView]
    var wouldPlan: [PlanEntry]
    var deferred: [DeferredErasure]
    var seconds: Double

    init(_ report: PassReport, dryRun: Bool, seconds: Double) {
        self.dryRun = dryRun
        finished = report.finished.map(JobView.init)
        waiting = report.waiting.map(JobView.init)
        wouldPlan = report.wouldPlan
        deferred = report.deferred
        self.seconds = seconds
    }
}
