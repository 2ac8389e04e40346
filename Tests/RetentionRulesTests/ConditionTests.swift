import RetentionRules
import Testing

@Suite("Conditions")
struct ConditionTests {
    @Test("parsing and printing", arguments: [
        ("first_login_at is null", "first_login_at is null"),
        ("first_login_at IS NOT NULL", "first_login_at is not null"),
        ("status = 'closed'", "status = 'closed'"),
        ("status != \"open\"", "status != 'open'"),
        ("amount < 100 and amount > -5.5", "amount < 100 and amount > -5.5"),
        ("a is null or b is null and c = 1", "a is null or b is null and c = 1"),
        ("(a is null or b is null) and c = 1", "(a is null or b is null) and c = 1"),
        ("not a is null and b >= 2", "not a is null and b >= 2"),
        ("not (a is null and b <= 2)", "not (a is null and b <= 2)"),
        ("name = 'O''Brien'", "name = 'O''Brien'"),
    ])
    func roundTrip(text: String, canonical: String) throws {
        let condition = try Condition.parse(text)
        #expect(condition.description == canonical)
        #expect(try Condition.parse(canonical).description == canonical)
    }

    @Test("precedence: and binds tighter than or")
    func precedence() throws {
        let condition = try Condition.parse("a is null or b is null and c = 1")
        guard case .or(_, .and) = condition else {
            Issue.record("expected or(a, and(b, c)); got \(condition)")
            return
        }
    }

    @Test("fields keep their position")
    func positions() throws {
        let condition = try Condition.parse("status = 'closed' and  closed_at is not null")
        #expect(condition.fields.map(\.name) == ["status", "closed_at"])
        #expect(condition.fields.map(\.offset) == [0, 23])
    }

    @Test("syntax errors are located", arguments: [
        ("status = closed", 9, "quoted string"),
        ("a == 1", 2, "'=='"),
        ("a <> 1", 2, "'!='"),
        ("a is not", 8, "expected 'null'"),
        ("(a is null", 10, "expected ')'"),
        ("a = null", 2, "is null"),
        ("a is null b is null", 10, "expected 'and', 'or'"),
        ("", 0, "expected a field"),
        ("Status = 1", 0, "lower-case"),
        ("a = 'open", 4, "unterminated"),
        ("a is null && b is null", 10, "'and'"),
        ("a = 1.2.3", 4, "not a number"),
        ("and = 1", 0, "expected a field name"),
    ])
    func errors(text: String, offset: Int, fragment: String) {
        #expect {
            _ = try Condition.parse(text)
        } throws: { error in
            guard let error = error as? ConditionSyntaxError else { return false }
            return error.offset == offset && error.message.contains(fragment)
        }
    }

    @Test("nesting and size are bounded, so no condition can overflow the stack: 32 levels read, 33 refused; 1,000 words read, more refused")
    func bounds() throws {
        func nested(_ depth: Int) -> String { String(repeating: "(", count: depth) + "a is null" + String(repeating: ")", count: depth) }
        _ = try Condition.parse(nested(32))
        #expect(throws: ConditionSyntaxError("'(' and 'not' are nested deeper than 32 here", offset: 32)) { _ = try Condition.parse(nested(33)) }
        #expect(throws: ConditionSyntaxError.self) { _ = try Condition.parse(String(repeating: "not ", count: 33) + "a is null") }
        let long = (0..<250).map { "f\($0) is null" }.joined(separator: " and ")      // 250 × 3 + 249 = 999 words and signs
        _ = try Condition.parse(long)
        #expect(throws: ConditionSyntaxError.self) { _ = try Condition.parse(long + " and g is null") }
    }
}
