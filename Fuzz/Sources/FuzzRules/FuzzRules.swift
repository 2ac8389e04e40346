import Foundation
import FuzzSupport
import RetentionRules

/// One input: the text of a rules file, read as `retentionctl lint` and the daemon read it
/// (YAML through libyaml and Yams, keys, durations, zones, conditions, merging).
///
/// Invariants: reading never traps, whatever the text; every problem has a place (line and
/// column from 1); every rule read has durations and a condition whose printed forms parse back
/// to the same; its periods never end before their anchor; and the schedule renders as JSON.
@main
enum FuzzRules {
    static func main() { runFuzzer(fuzzOne) }
}

let anchor = Date(timeIntervalSince1970: 1_772_236_800)  // 2026-02-28T00:00:00Z, a month end
let encoder = JSONEncoder()

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let load = RuleSet.merge([(file: "fuzz.yaml", text: text(data, size))])
    for diagnostic in load.diagnostics {
        require(diagnostic.location.line >= 1 && diagnostic.location.column >= 1, "no place: \(diagnostic)")
    }
    for rule in load.ruleSet.rules {
        for duration in rule.retention.stages.map(\.after) + [rule.deadline].compactMap({ $0 }) {
            require((try? Period.parse(duration.description)) == duration, "rule \(rule.id): \(duration) does not parse back")
        }
        if let condition = rule.condition {
            require((try? Condition.parse(condition.description))?.description == condition.description,
                         "rule \(rule.id): the condition \(condition) does not parse back")
        }
        for stage in rule.dueDates(anchor: anchor) {
            require(stage.due >= anchor, "rule \(rule.id): \(stage.stage.after) from \(anchor) is due at \(stage.due)")
        }
    }
    guard (try? encoder.encode(Schedule(load.ruleSet))) != nil else { fatalError("the schedule does not encode") }
    return 0
}
