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
        // Found by the fuzzer (Fuzz/, FuzzCondition): small and large reals printed with an
        // exponent (`1e-06`), which the language cannot read back.
        ("y > 0.000001", "y > 0.000001"),
        ("y > -0.0000012345", "y > -0.0000012345"),
        ("y < 12345678901234567890.5", "y < 12345678901234567000.0"),
        // Also found by the fuzzer: a quote followed by a combining mark was not doubled.
        ("name = 'O''\u{7F1}Brien'", "name = 'O''\u{7F1}Brien'"),
        ("name = \"\u{301}'\u{301}\"", "name = '\u{301}''\u{301}'"),
    ])
    func roundTrip(text: String, canonical: String) throws {
        let condition = try Condition.parse(text)
        #expect(condition.description == canonical)
        #expect(try Condition.parse(canonical).description == canonical)
    }

    @Test("every real literal prints as text that reads back as the same number",
          arguments: [1e-300, Double.leastNonzeroMagnitude, 1e-7, 0.1, 1.5, 123.456, 1e15, 1e16, 1.7976931348623157e308, 2.5e-5, 9.999e22])
    func realsReadBack(value: Double) throws {
        for value in [value, -value] {
            let condition = Condition.comparison(.init("x", offset: 0), .equal, .real(value))
            guard case .comparison(_, _, .real(let again)) = try Condition.parse(condition.description) else {
                Issue.record("\(condition) read back as something else than a real comparison")
                continue
            }
            #expect(again == value, "\(value) printed as \(condition)")
        }
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
        ("a = 1" + String(repeating: "0", count: 400) + ".5", 4, "too large"),
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
