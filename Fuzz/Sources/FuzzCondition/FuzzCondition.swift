import FuzzSupport
import RetentionRules

/// One input: the text of a `when:` condition.
///
/// Invariants: parsing never traps; a parsed condition's canonical text parses to the same
/// canonical text (what `retentionctl schedule` prints can be pasted back), reading the same
/// fields; the tree is no deeper than the parser's limits allow, so rendering and evaluating it
/// cannot overflow the stack.
@main
enum FuzzCondition {
    static func main() { runFuzzer(fuzzOne) }
}

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = text(data, size)
    guard let condition = try? Condition.parse(text) else { return 0 }
    let canonical = condition.description
    let again: Condition
    do { again = try Condition.parse(canonical) } catch {
        fatalError("the canonical text of \(text.debugDescription) does not parse: \(canonical.debugDescription): \(error)")
    }
    require(again.description == canonical,
                 "canonical text is not stable: \(canonical.debugDescription) became \(again.description.debugDescription)")
    require(again.fields.map(\.name) == condition.fields.map(\.name), "fields changed through the canonical text")
    // At most 1000 tokens, a test at least three of them: an and/or chain is at most 334 deep.
    let depth = depth(of: condition)
    require(depth <= 400, "a condition of \(size) bytes is \(depth) levels deep")
    return 0
}

func depth(of condition: Condition) -> Int {
    switch condition {
    case .isNull, .comparison: 1
    case .and(let lhs, let rhs), .or(let lhs, let rhs): 1 + max(depth(of: lhs), depth(of: rhs))
    case .not(let inner, _): 1 + depth(of: inner)
    }
}
