import Foundation
import RetentionRules

/// When each stage of a rule falls due for one anchor, as `when` prints it (`--format json` as is).
struct WhenReport: Encodable {
    struct Due: Encodable {
        var after: String
        var action: String
        var due: String
    }

    var rule: String
    var timezone: String
    var retain: String
    var anchor: String
    var start: String
    var stages: [Due]
    var deadline: String?

    /// The instants in the rule's zone, with its offset.
    init(_ rule: Rule, anchor: Date) {
        let calendar = rule.calendar
        switch rule.retention {
        case .stages: retain = rule.isMultiStage ? "stages" : rule.retention.stages[0].after.description
        case .forever: retain = "forever"
        case .never: retain = "none"
        }
        self.rule = rule.id
        timezone = rule.timeZone
        self.anchor = calendar.format(anchor)
        start = calendar.format(calendar.due(after: Period(0, .hours), from: anchor, alignment: rule.alignment))
        stages = rule.dueDates(anchor: anchor).map {
            Due(after: $0.stage.after.description, action: $0.stage.action.rawValue, due: calendar.format($0.due))
        }
        deadline = rule.deadline(anchor: anchor).map(calendar.format)
    }
}
