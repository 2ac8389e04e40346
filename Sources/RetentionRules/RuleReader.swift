import Yams

/// Reads one rule's mapping, checking each key and the combinations the language forbids.
struct RuleReader {
    let id: String
    let idNode: Node
    let node: Node
    let zone: (name: String, calendar: RetentionCalendar)

    /// Set when any problem in this rule is an error, so the rule is left out.
    private var failed = false

    init(id: String, idNode: Node, node: Node, zone: (name: String, calendar: RetentionCalendar)) {
        self.id = id
        self.idNode = idNode
        self.node = node
        self.zone = zone
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

    mutating func read(source: inout YAMLSource) -> Rule? {
        if !Self.isRuleID(id) {
            error("rule id '\(id)' must be lower-case letters, digits, '-', '_' or '.', starting with a letter or digit",
                  at: idNode, &source)
        }
        guard node.mapping != nil else {
            error("rule '\(id)' must be a mapping of keys (retain, from, then, ...); found \(YAMLSource.describe(node))",
                  at: node, &source)
            return nil
        }
        let pairs = source.pairs(of: node)
        let errorsBefore = source.diagnostics.errors.count
        source.checkKeys(of: pairs, known: RulesParser.ruleKeys, in: "rule '\(id)'")
        if source.diagnostics.errors.count > errorsBefore { failed = true }
        let value = { (key: String) in pairs.first { $0.key == key } }

        func text(_ key: String) -> String? {
            guard let pair = value(key) else { return nil }
            return source.string(pair.value, expected: "text for '\(key)'")
        }
        let title = text("title"), basis = text("basis"), ruleSource = text("source"), note = text("note")

        var calendar = zone.calendar
        if let zoneNode = value("timezone")?.value {
            if let (_, ruleCalendar) = RulesParser.timeZone(zoneNode, source: &source) { calendar = ruleCalendar } else { failed = true }
        }

        let anchor = readAnchor(value("from"), &source)
        let alignment = value("align").flatMap { pair -> Alignment? in
            let result = source.choice(pair.value, key: "align", as: Alignment.self)
            if result == nil { failed = true }
            return result
        }
        let (condition, conditionLocation) = readCondition(value("when"), &source)
        let deadline = value("deadline").flatMap { readDuration($0.value, key: "deadline", &source) }
        let lock = value("lock").flatMap { pair -> Bool? in
            let result = source.bool(pair.value, key: "lock")
            if result == nil { failed = true }
            return result
        } ?? false
        let ambiguous = value("ambiguous").flatMap { pair -> Bool? in
            let result = source.bool(pair.value, key: "ambiguous")
            if result == nil { failed = true }
            return result
        } ?? false
        let review = value("review").flatMap { pair -> Review? in
            let result = source.choice(pair.value, key: "review", as: Review.self)
            if result == nil { failed = true }
            return result
        } ?? .none
        let enforcedBy = value("enforced-by").flatMap { pair -> Enforcement? in
            let result = source.choice(pair.value, key: "enforced-by", as: Enforcement.self)
            if result == nil { failed = true }
            return result
        } ?? .retentiond

        let kind = value("kind").flatMap { pair -> Kind? in
            let result = source.choice(pair.value, key: "kind", as: Kind.self)
            if result == nil { failed = true }
            return result
        }
        let retention = readRetention(value("retain"), value("then"), value("stages"), &source)
        if let retention { checkKind(kind, value("kind"), retention, anchor: anchor, &source) }

        // Combinations.
        switch retention {
        case .stages(let stages)?:
            if anchor == nil, value("from") == nil {
                error("rule '\(id)' has a finite period but no 'from:': say which event the period counts from "
                      + "(for example 'from: created_at')", at: value("retain")?.keyNode ?? value("stages")?.keyNode ?? idNode, &source)
            }
            if let deadline, let last = stages.last, let pair = value("deadline") {
                if deadline.isAlwaysShorter(than: last.after) {
                    error("deadline \(deadline) ends before the last stage (\(last.after)): the deadline is counted "
                          + "from the anchor and must be at least the retention period", at: pair.value, &source)
                } else if !deadline.isNeverShorter(than: last.after) {
                    source.warning("deadline \(deadline) and the last stage (\(last.after)) cannot be ordered for every "
                                   + "anchor; use the same unit", at: pair.value)
                }
            }
        case .forever?:
            if kind == nil {
                error("rule '\(id)' keeps data forever: say which kind of reason it is ('kind: purpose'; an obligation "
                      + "states the period the law sets)", at: value("retain")!.value, &source)
            }
            if basis == nil {
                error("rule '\(id)' keeps data forever: 'retain: forever' needs a 'basis:' that justifies it",
                      at: value("retain")!.value, &source)
            }
            for key in ["then", "from", "deadline", "align"] {
                if let pair = value(key) {
                    error("'\(key)' has no meaning with 'retain: forever': nothing is ever due", at: pair.keyNode, &source)
                }
            }
        case .never?:
            if let then = value("then"), let action = then.value.scalar?.string, action != Action.delete.rawValue {
                error("'retain: none' data is deleted when found; 'then: \(action)' cannot apply", at: then.value, &source)
            }
        case nil:
            failed = true
        }
        if ambiguous, note == nil {
            error("rule '\(id)' is marked 'ambiguous: true' but has no 'note:' stating the interpretation chosen",
                  at: value("ambiguous")!.value, &source)
        }
        if basis == nil, retention != nil, retention != .forever {
            source.diagnostics.append(.warning(
                "rule '\(id)' has no 'basis:': name the law or purpose that justifies the period",
                at: source.location(of: idNode)))
        }
        for stage in retention?.stages ?? [] where stage.after.approximateDays > Double(Self.suspiciousYears) * 365.2425 {
            let node = value("retain")?.value ?? value("stages")!.value
            source.warning("\(stage.after) is over \(Self.suspiciousYears) years: is this period really meant?", at: node)
        }

        guard !failed, let retention else { return nil }
        return Rule(id: id, title: title, kind: kind, retention: retention, isMultiStage: value("stages") != nil,
                    anchor: anchor, alignment: alignment, condition: condition, deadline: deadline, lock: lock,
                    review: review, calendar: calendar, basis: basis, source: ruleSource, note: note,
                    ambiguous: ambiguous, enforcedBy: enforcedBy, location: source.location(of: idNode),
                    conditionLocation: conditionLocation)
    }

    /// The combinations of kind and period that cannot work: an obligation keeps for the period the
    /// law sets, so it needs one; an erasure deletes when an event happens, so it needs the event.
    private mutating func checkKind(_ kind: Kind?, _ pair: (key: String, keyNode: Node, value: Node)?,
                                    _ retention: Retention, anchor: Anchor?, _ source: inout YAMLSource) {
        guard let kind, let pair else { return }
        switch (kind, retention) {
        case (.obligation, .forever), (.obligation, .never):
            error("an obligation keeps records for the period the law sets: give it 'retain: DURATION' "
                  + "(found 'retain: \(retention == .forever ? "forever" : "none")')", at: pair.value, &source)
        case (.purpose, .never):
            error("'retain: none' says the data must not exist: it is an erasure, not a purpose", at: pair.value, &source)
        case (.erasure, .forever):
            error("an erasure rule deletes when an event happens; 'retain: forever' deletes nothing", at: pair.value, &source)
        case (.erasure, .stages):
            if anchor == nil {
                error("an erasure rule needs the event it deletes on: add 'from:' (for example 'from: erasure_request_upheld_at')",
                      at: pair.value, &source)
            }
        default:
            break
        }
    }

    private mutating func readDuration(_ node: Node, key: String, _ source: inout YAMLSource) -> Duration? {
        guard let text = source.string(node, expected: "a duration for '\(key)', \(Duration.expectedForm)") else {
            failed = true
            return nil
        }
        do {
            return try Duration.parse(text)
        } catch {
            failed = true
            source.diagnostics.append(.error("'\(key)': \(error.message)", at: source.location(of: node, offset: error.offset)))
            return nil
        }
    }

    private mutating func readAction(_ node: Node, _ source: inout YAMLSource) -> Action? {
        let action = source.choice(node, key: "then", as: Action.self)
        if action == nil { failed = true }
        return action
    }

    private mutating func readRetention(_ retain: (key: String, keyNode: Node, value: Node)?,
                                        _ then: (key: String, keyNode: Node, value: Node)?,
                                        _ stages: (key: String, keyNode: Node, value: Node)?,
                                        _ source: inout YAMLSource) -> Retention? {
        switch (retain, stages) {
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
            guard let duration = readDuration(retain.value, key: "retain", &source) else { return nil }
            guard let then else {
                error("rule '\(id)' says how long ('retain: \(duration)') but not what happens then: "
                      + "add 'then: delete', 'then: anonymize' or 'then: restrict'", at: retain.keyNode, &source)
                return nil
            }
            guard let action = readAction(then.value, &source) else { return nil }
            return .stages([Stage(after: duration, then: action)])
        case (nil, let stages?):
            if let then {
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
            guard item.mapping != nil else {
                error("a stage must be a mapping {after: DURATION, then: ACTION}; found \(YAMLSource.describe(item))",
                      at: item, &source)
                continue
            }
            let pairs = source.pairs(of: item)
            let errorsBefore = source.diagnostics.errors.count
            source.checkKeys(of: pairs, known: RulesParser.stageKeys, in: "a stage of rule '\(id)'")
            if source.diagnostics.errors.count > errorsBefore { failed = true }
            let after = pairs.first { $0.key == "after" }, then = pairs.first { $0.key == "then" }
            if after == nil { error("this stage has no 'after:' period", at: item, &source) }
            if then == nil { error("this stage has no 'then:' action", at: item, &source) }
            guard let after, let then,
                  let duration = readDuration(after.value, key: "after", &source),
                  let action = readAction(then.value, &source) else { continue }
            let stage = Stage(after: duration, then: action)
            if let previous {
                if !previous.stage.after.isAlwaysShorter(than: duration) {
                    let why = previous.stage.after.unit == duration.unit || previous.stage.after.isNeverShorter(than: duration)
                        ? "must come after" : "cannot be ordered for every anchor after"
                    error("stage periods must increase: \(duration) \(why) \(previous.stage.after) "
                          + "(line \(source.location(of: previous.node).line))", at: after.value, &source)
                }
                if previous.stage.action == .delete {
                    error("nothing is left to \(action.rawValue) after the 'delete' stage at line \(source.location(of: previous.node).line)",
                          at: then.value, &source)
                }
            }
            previous = (stage, after.value)
            stages.append(stage)
        }
        return stages.count == items.count ? .stages(stages) : nil
    }

    private mutating func readAnchor(_ pair: (key: String, keyNode: Node, value: Node)?, _ source: inout YAMLSource) -> Anchor? {
        guard let pair else { return nil }
        var nodes: [Node]
        switch pair.value {
        case .sequence(let sequence):
            nodes = Array(sequence)
            if nodes.isEmpty {
                error("'from' is an empty list: name at least one anchor field", at: pair.value, &source)
                return nil
            }
        default:
            nodes = [pair.value]
        }
        // A Set, not `fields.contains`: a list of 40,000 names once took 48 s to check.
        guard nodes.count <= Self.maximumAnchorFields else {
            error("'from' lists \(nodes.count) fields; at most \(Self.maximumAnchorFields) are read", at: pair.value, &source)
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

    private mutating func readCondition(_ pair: (key: String, keyNode: Node, value: Node)?,
                                        _ source: inout YAMLSource) -> (Condition?, SourceLocation?) {
        guard let pair else { return (nil, nil) }
        guard let text = source.string(pair.value, expected: "a condition such as 'first_login_at is null'") else {
            failed = true
            return (nil, nil)
        }
        do {
            return (try Condition.parse(text), source.location(of: pair.value, offset: 0))
        } catch {
            failed = true
            source.diagnostics.append(.error("'when': \(error.message)",
                                             at: source.location(of: pair.value, offset: error.offset)))
            return (nil, nil)
        }
    }
}
