import Yams

/// Reads one rule's mapping, checking each key and the combinations the language forbids.
struct RuleReader {
    typealias Key = RulesParser.RuleKey

    let id: String
    let idNode: Node
    let node: Node
    /// The calendar of the file's zone, unless the rule names its own.
    let calendar: RetentionCalendar

    /// Set when any problem in this rule is an error, so the rule is left out.
    private var failed = false

    init(id: String, idNode: Node, node: Node, calendar: RetentionCalendar) {
        self.id = id
        self.idNode = idNode
        self.node = node
        self.calendar = calendar
    }

    /// `contract_end`: lower-case letters, digits and `_`, not starting with a digit.
    static func isFieldName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }

    /// `kmbe-contracts`: lower-case letters, digits, `-`, `_` and `.`, starting with a letter or digit.
    static func isRuleID(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, ("a"..."z").contains(first) || ("0"..."9").contains(first) else { return false }
        return id.unicodeScalars.allSatisfy { "-_.".unicodeScalars.contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }
    /// The most fields one `from:` may list.
    static let maximumAnchorFields = 100
    /// Periods longer than this are legal but suspicious.
    static let suspiciousYears = 30

    private mutating func error(_ message: String, at node: Node, _ source: inout YAMLSource) {
        failed = true
        source.error(message, at: node)
    }

    /// The rule, or nil when it has an error; every problem found is reported, in the order of
    /// its keys' reads below.
    mutating func read(source: inout YAMLSource) -> Rule? {
        if !Self.isRuleID(id) {
            error("rule id '\(id)' must be lower-case letters, digits, '-', '_' or '.', starting with a letter or digit",
                  at: idNode, &source)
        }
        guard var rule = MappingReader<Key>(node, notAMapping: "rule '\(id)' must be a mapping of keys (retain, from, then, ...)",
                                            &source) else {
            failed = true
            return nil
        }
        // A key that is not a name is reported as the reader is made, and leaves the rule in (as
        // does descriptive text that is not text); an unknown key leaves it out.
        if !rule.checkKeys(in: "rule '\(id)'", &source) { failed = true }
        let title = rule.text(.title, &source), basis = rule.text(.basis, &source)
        let ruleSource = rule.text(.source, &source), note = rule.text(.note, &source)
        let calendar = rule.timeZone(.timezone, &source) ?? calendar
        let anchor = readAnchor(rule[.from], &source)
        let alignment = rule.choice(.align, as: Alignment.self, &source)
        let condition = rule.parsed(.when, expected: "a condition such as 'first_login_at is null'", Condition.parse, &source)
        let deadline = rule.duration(.deadline, &source)
        let lock = rule.bool(.lock, &source) ?? false
        let ambiguous = rule.bool(.ambiguous, &source) ?? false
        let review = rule.choice(.review, as: Review.self, &source) ?? .none
        let enforcedBy = rule.choice(.enforcedBy, as: Enforcement.self, &source) ?? .retentiond
        let kind = rule.choice(.kind, as: Kind.self, &source)
        let retention = readRetention(&rule, &source)
        if rule.unreadable.contains(where: { !$0.isDescriptive }) { failed = true }
        if let retention { checkKind(kind, rule[.kind], retention, anchor: anchor, &source) }
        checkCombinations(of: rule, retention, kind: kind, anchor: anchor, deadline: deadline, basis: basis, &source)
        if ambiguous, note == nil, let entry = rule[.ambiguous] {
            error("rule '\(id)' is marked 'ambiguous: true' but has no 'note:' stating the interpretation chosen",
                  at: entry.value, &source)
        }
        warnAboutPeriods(of: rule, retention, basis: basis, &source)

        guard !failed, let retention else { return nil }
        return Rule(id: id, title: title, kind: kind, retention: retention, isMultiStage: rule[.stages] != nil,
                    anchor: anchor, alignment: alignment, condition: condition, deadline: deadline, lock: lock,
                    review: review, calendar: calendar, basis: basis, source: ruleSource, note: note,
                    ambiguous: ambiguous, enforcedBy: enforcedBy, location: source.location(of: idNode),
                    conditionLocation: condition == nil ? nil : rule[.when].map { source.location(of: $0.value, offset: 0) })
    }

    /// The keys that mean nothing, or cannot work, with the period the rule states.
    private mutating func checkCombinations(of rule: MappingReader<Key>, _ retention: Retention?, kind: Kind?, anchor: Anchor?,
                                            deadline: Period?, basis: String?, _ source: inout YAMLSource) {
        switch retention {
        case .stages(let stages)?:
            if anchor == nil, rule[.from] == nil {
                error("rule '\(id)' has a finite period but no 'from:': say which event the period counts from "
                      + "(for example 'from: created_at')", at: rule[.retain]?.keyNode ?? rule[.stages]?.keyNode ?? idNode, &source)
            }
            if let deadline, let last = stages.last, let entry = rule[.deadline] {
                if deadline.isAlwaysShorter(than: last.after) {
                    error("deadline \(deadline) ends before the last stage (\(last.after)): the deadline is counted "
                          + "from the anchor and must be at least the retention period", at: entry.value, &source)
                } else if !deadline.isNeverShorter(than: last.after) {
                    source.warning("deadline \(deadline) and the last stage (\(last.after)) cannot be ordered for every "
                                   + "anchor; use the same unit", at: entry.value)
                }
            }
        case .forever?:
            // Only `retain: forever` reads as keeping forever, so the key is there.
            let retain = rule[.retain]?.value ?? rule.node
            if kind == nil {
                error("rule '\(id)' keeps data forever: say which kind of reason it is ('kind: purpose'; an obligation "
                      + "states the period the law sets)", at: retain, &source)
            }
            if basis == nil {
                error("rule '\(id)' keeps data forever: 'retain: forever' needs a 'basis:' that justifies it", at: retain, &source)
            }
            for key in [Key.then, .from, .deadline, .align] {
                if let entry = rule[key] {
                    error("'\(key.rawValue)' has no meaning with 'retain: forever': nothing is ever due", at: entry.keyNode, &source)
                }
            }
        case .never?:
            if let then = rule[.then], let action = then.value.scalar?.string, action != Action.delete.rawValue {
                error("'retain: none' data is deleted when found; 'then: \(action)' cannot apply", at: then.value, &source)
            }
        case nil:
            failed = true
        }
    }

    /// Warnings only: a period with no law or purpose named, and periods too long to be meant.
    private func warnAboutPeriods(of rule: MappingReader<Key>, _ retention: Retention?, basis: String?,
                                  _ source: inout YAMLSource) {
        if basis == nil, retention != nil, retention != .forever {
            source.warning("rule '\(id)' has no 'basis:': name the law or purpose that justifies the period", at: idNode)
        }
        for stage in retention?.stages ?? [] where stage.after.approximateDays > Double(Self.suspiciousYears) * 365.2425 {
            // Stages come from `retain:` or `stages:`, so one of them is there.
            let node = rule[.retain]?.value ?? rule[.stages]?.value ?? idNode
            source.warning("\(stage.after) is over \(Self.suspiciousYears) years: is this period really meant?", at: node)
        }
    }

    /// The combinations of kind and period that cannot work: an obligation keeps for the period the
    /// law sets, so it needs one; an erasure deletes when an event happens, so it needs the event.
    private mutating func checkKind(_ kind: Kind?, _ entry: MappingEntry?, _ retention: Retention, anchor: Anchor?,
                                    _ source: inout YAMLSource) {
        guard let kind, let entry else { return }
        switch (kind, retention) {
        case (.obligation, .forever), (.obligation, .never):
            error("an obligation keeps records for the period the law sets: give it 'retain: DURATION' "
                  + "(found 'retain: \(retention == .forever ? "forever" : "none")')", at: entry.value, &source)
        case (.purpose, .never):
            error("'retain: none' says the data must not exist: it is an erasure, not a purpose", at: entry.value, &source)
        case (.erasure, .forever):
            error("an erasure rule deletes when an event happens; 'retain: forever' deletes nothing", at: entry.value, &source)
        case (.erasure, .stages):
            if anchor == nil {
                error("an erasure rule needs the event it deletes on: add 'from:' (for example 'from: erasure_request_upheld_at')",
                      at: entry.value, &source)
            }
        default:
            break
        }
    }

    /// `retain:` with `then:`, or `stages:`: how long the data is kept and what happens then.
    private mutating func readRetention(_ rule: inout MappingReader<Key>, _ source: inout YAMLSource) -> Retention? {
        switch (rule[.retain], rule[.stages]) {
        case (nil, nil):
            error("rule '\(id)' says neither 'retain:' nor 'stages:': how long is the data kept?", at: idNode, &source)
            return nil
        case (let retain?, let stages?):
            error("rule '\(id)' has both 'retain:' and 'stages:' (retain at line \(source.location(of: retain.keyNode).line)); "
                  + "use 'retain' + 'then' for one stage, 'stages' for several", at: stages.keyNode, &source)
            return nil
        case (let retain?, nil):
            let text = retain.value.scalar?.string
            if text == "forever" { return .forever }
            if text == "none" { return .never }
            guard let duration = rule.duration(.retain, &source) else { return nil }
            guard rule[.then] != nil else {
                error("rule '\(id)' says how long ('retain: \(duration)') but not what happens then: "
                      + "add 'then: delete', 'then: anonymize' or 'then: restrict'", at: retain.keyNode, &source)
                return nil
            }
            guard let action = rule.choice(.then, as: Action.self, &source) else { return nil }
            return .stages([Stage(after: duration, then: action)])
        case (nil, let stages?):
            if let then = rule[.then] {
                error("'then' belongs inside each stage when 'stages:' is used", at: then.keyNode, &source)
            }
            return readStages(stages.value, &source)
        }
    }

    private mutating func readStages(_ node: Node, _ source: inout YAMLSource) -> Retention? {
        guard let items = node.sequence else {
            error("'stages' must be a list of {after: DURATION, then: ACTION}; found \(YAMLSource.describe(node))",
                  at: node, &source)
            return nil
        }
        guard !items.isEmpty else {
            error("'stages' is empty: give at least one {after: DURATION, then: ACTION}", at: node, &source)
            return nil
        }
        var stages: [Stage] = []
        var previous: (stage: Stage, node: Node)?
        for item in items {
            guard let (stage, after, then) = readStage(item, &source) else { continue }
            if let previous {
                if !previous.stage.after.isAlwaysShorter(than: stage.after) {
                    let why = previous.stage.after.unit == stage.after.unit || previous.stage.after.isNeverShorter(than: stage.after)
                        ? "must come after" : "cannot be ordered for every anchor after"
                    error("stage periods must increase: \(stage.after) \(why) \(previous.stage.after) "
                          + "(line \(source.location(of: previous.node).line))", at: after, &source)
                }
                if previous.stage.action == .delete {
                    error("nothing is left to \(stage.action.rawValue) after the 'delete' stage at line "
                          + "\(source.location(of: previous.node).line)", at: then, &source)
                }
            }
            previous = (stage, after)
            stages.append(stage)
        }
        // A stage left out (its problem reported) leaves the whole list unread.
        return stages.count == items.count ? .stages(stages) : nil
    }

    /// One `{after: DURATION, then: ACTION}`, with the nodes of its two values.
    private mutating func readStage(_ item: Node, _ source: inout YAMLSource) -> (Stage, after: Node, then: Node)? {
        guard var stage = MappingReader<RulesParser.StageKey>(
            item, notAMapping: "a stage must be a mapping {after: DURATION, then: ACTION}", &source) else {
            failed = true
            return nil
        }
        if !stage.checkKeys(in: "a stage of rule '\(id)'", &source) { failed = true }
        if stage[.after] == nil { error("this stage has no 'after:' period", at: item, &source) }
        if stage[.then] == nil { error("this stage has no 'then:' action", at: item, &source) }
        guard let after = stage[.after], let then = stage[.then],
              let duration = stage.duration(.after, &source),
              let action = stage.choice(.then, as: Action.self, &source) else { return nil }
        return (Stage(after: duration, then: action), after.value, then.value)
    }

    private mutating func readAnchor(_ entry: MappingEntry?, _ source: inout YAMLSource) -> Anchor? {
        guard let entry else { return nil }
        var nodes: [Node]
        switch entry.value {
        case .sequence(let sequence):
            nodes = Array(sequence)
            if nodes.isEmpty {
                error("'from' is an empty list: name at least one anchor field", at: entry.value, &source)
                return nil
            }
        default:
            nodes = [entry.value]
        }
        // A Set, not `fields.contains`: a list of 40,000 names once took 48 s to check.
        guard nodes.count <= Self.maximumAnchorFields else {
            error("'from' lists \(nodes.count) fields; at most \(Self.maximumAnchorFields) are read", at: entry.value, &source)
            return nil
        }
        var fields: [String] = [], seen: Set<String> = []
        for node in nodes {
            guard let name = source.string(node, expected: "an anchor field name such as created_at") else {
                failed = true
                continue
            }
            if !Self.isFieldName(name) {
                error("anchor field '\(name)' must be lower-case letters, digits and '_' (for example contract_end)",
                      at: node, &source)
            } else if !seen.insert(name).inserted {
                source.warning("anchor field '\(name)' is listed twice", at: node)
            } else {
                fields.append(name)
            }
        }
        return fields.isEmpty ? nil : Anchor(fields)
    }
}
