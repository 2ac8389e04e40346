/// Why a `when:` text is not a condition.
public struct ConditionSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was expected and what was found.
    public var message: String
    /// Offset in the condition text, 0-based, in Unicode scalars.
    public var offset: Int

    /// Creates an error.
    package init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { message }
}

extension Condition {
    /// Parses the condition language:
    ///
    /// ```
    /// condition := or
    /// or        := and ("or" and)*
    /// and       := unary ("and" unary)*
    /// unary     := "not" unary | "(" condition ")" | test
    /// test      := FIELD "is" ["not"] "null" | FIELD OP LITERAL
    /// OP        := "=" | "!=" | "<" | ">" | "<=" | ">="
    /// LITERAL   := 'text' | "text" | number
    /// ```
    public static func parse(_ text: String) throws(ConditionSyntaxError) -> Condition {
        // Conditions are parsed, rendered and evaluated recursively: bounded size and nesting keep
        // a hostile rules file (2,000 parentheses) from overflowing the stack of lint or the daemon.
        let tokens = try ConditionLexer.tokens(of: text)
        if tokens.count > ConditionParser.maximumTokens {
            throw ConditionSyntaxError("the condition has \(tokens.count) words and signs; at most \(ConditionParser.maximumTokens) are read",
                                       offset: tokens[ConditionParser.maximumTokens].offset)
        }
        var parser = ConditionParser(tokens: tokens, end: text.unicodeScalars.count)
        let condition = try parser.parseOr()
        if let token = parser.peek {
            throw ConditionSyntaxError("expected 'and', 'or' or the end of the condition; found \(token.kind.quoted)",
                                       offset: token.offset)
        }
        return condition
    }
}

struct ConditionToken: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case word(String)
        case op(Condition.Comparison)
        case string(String)
        case number(Condition.Literal)
        case open
        case close

        var quoted: String {
            switch self {
            case .word(let word): "'\(word)'"
            case .op(let op): "'\(op.rawValue)'"
            case .string(let text): "the string '\(text)'"
            case .number(let literal): "the number \(literal)"
            case .open: "'('"
            case .close: "')'"
            }
        }
    }

    var kind: Kind
    var offset: Int

    func isKeyword(_ keyword: String) -> Bool {
        if case .word(let word) = kind { return word.lowercased() == keyword }
        return false
    }
}

enum ConditionLexer {
    static let keywords: Set<String> = ["and", "or", "not", "is", "null"]

    static func tokens(of text: String) throws(ConditionSyntaxError) -> [ConditionToken] {
        let scalars = Array(text.unicodeScalars)
        var tokens: [ConditionToken] = []
        var i = 0
        func isWordStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c.properties.isAlphabetic }
        func isWord(_ c: Unicode.Scalar) -> Bool { isWordStart(c) || ("0"..."9").contains(c) }
        while i < scalars.count {
            let c = scalars[i]
            let start = i
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                i += 1
            } else if c == "(" {
                tokens.append(.init(kind: .open, offset: i)); i += 1
            } else if c == ")" {
                tokens.append(.init(kind: .close, offset: i)); i += 1
            } else if c == "'" || c == "\"" {
                i += 1
                var value = String.UnicodeScalarView()
                var closed = false
                while i < scalars.count {
                    if scalars[i] == c {
                        if i + 1 < scalars.count, scalars[i + 1] == c { value.append(c); i += 2; continue }
                        closed = true; i += 1; break
                    }
                    value.append(scalars[i]); i += 1
                }
                guard closed else {
                    throw ConditionSyntaxError("unterminated string: expected a closing \(c)", offset: start)
                }
                tokens.append(.init(kind: .string(String(value)), offset: start))
            } else if ("0"..."9").contains(c) || (c == "-" && i + 1 < scalars.count && ("0"..."9").contains(scalars[i + 1])) {
                i += 1
                while i < scalars.count, ("0"..."9").contains(scalars[i]) || scalars[i] == "." { i += 1 }
                let literal = String(String.UnicodeScalarView(scalars[start..<i]))
                if let integer = Int64(literal) {
                    tokens.append(.init(kind: .number(.integer(integer)), offset: start))
                } else if let real = Double(literal), literal.filter({ $0 == "." }).count == 1, !literal.hasSuffix(".") {
                    // 400 digits read as infinity, which no column holds and no text prints back.
                    guard real.isFinite else {
                        throw ConditionSyntaxError("'\(literal)' is too large a number", offset: start)
                    }
                    tokens.append(.init(kind: .number(.real(real)), offset: start))
                } else {
                    throw ConditionSyntaxError("'\(literal)' is not a number", offset: start)
                }
            } else if isWordStart(c) {
                while i < scalars.count, isWord(scalars[i]) { i += 1 }
                tokens.append(.init(kind: .word(String(String.UnicodeScalarView(scalars[start..<i]))), offset: start))
            } else {
                let two = i + 1 < scalars.count ? String(String.UnicodeScalarView([c, scalars[i + 1]])) : ""
                switch two {
                case "!=", "<=", ">=":
                    tokens.append(.init(kind: .op(.init(rawValue: two)!), offset: i)); i += 2
                case "==":
                    throw ConditionSyntaxError("unknown operator '=='; write '=' to compare", offset: i)
                case "<>":
                    throw ConditionSyntaxError("unknown operator '<>'; write '!=' for 'not equal'", offset: i)
                case "&&", "||":
                    throw ConditionSyntaxError("unknown operator '\(two)'; write '\(two == "&&" ? "and" : "or")'", offset: i)
                default:
                    switch c {
                    case "=": tokens.append(.init(kind: .op(.equal), offset: i)); i += 1
                    case "<": tokens.append(.init(kind: .op(.less), offset: i)); i += 1
                    case ">": tokens.append(.init(kind: .op(.greater), offset: i)); i += 1
                    case "!": throw ConditionSyntaxError("unexpected '!'; write 'not' or '!='", offset: i)
                    default:
                        throw ConditionSyntaxError("unexpected character '\(c)' in condition", offset: i)
                    }
                }
            }
        }
        return tokens
    }
}

struct ConditionParser {
    /// Limits on a condition: words and signs, and '(' / 'not' nested in each other.
    static let maximumTokens = 1000
    static let maximumDepth = 32

    var tokens: [ConditionToken]
    var index = 0
    var depth = 0
    /// Offset of the end of the text, for "expected … found the end".
    var end: Int

    init(tokens: [ConditionToken], end: Int) {
        self.tokens = tokens
        self.end = end
    }

    var peek: ConditionToken? { index < tokens.count ? tokens[index] : nil }

    mutating func next() -> ConditionToken? {
        defer { index += 1 }
        return peek
    }

    func found(_ token: ConditionToken?) -> String { token?.kind.quoted ?? "the end of the condition" }

    mutating func parseOr() throws(ConditionSyntaxError) -> Condition {
        var lhs = try parseAnd()
        while let token = peek, token.isKeyword("or") {
            index += 1
            lhs = .or(lhs, try parseAnd())
        }
        return lhs
    }

    mutating func parseAnd() throws(ConditionSyntaxError) -> Condition {
        var lhs = try parseUnary()
        while let token = peek, token.isKeyword("and") {
            index += 1
            lhs = .and(lhs, try parseUnary())
        }
        return lhs
    }

    mutating func parseUnary() throws(ConditionSyntaxError) -> Condition {
        guard let token = next() else {
            throw ConditionSyntaxError("expected a field, 'not' or '('; found the end of the condition", offset: end)
        }
        if token.isKeyword("not") || token.kind == .open {
            depth += 1
            if depth > Self.maximumDepth {
                throw ConditionSyntaxError("'(' and 'not' are nested deeper than \(Self.maximumDepth) here", offset: token.offset)
            }
        }
        defer { if token.isKeyword("not") || token.kind == .open { depth -= 1 } }
        if token.isKeyword("not") { return .not(try parseUnary(), offset: token.offset) }
        if token.kind == .open {
            let inner = try parseOr()
            guard let close = next(), close.kind == .close else {
                throw ConditionSyntaxError("expected ')' to close the '(' at character \(token.offset + 1) of the condition; found \(found(tokens[safe: index - 1]))",
                                           offset: tokens[safe: index - 1]?.offset ?? end)
            }
            return inner
        }
        guard case .word(let name) = token.kind, !ConditionLexer.keywords.contains(name.lowercased()) else {
            throw ConditionSyntaxError("expected a field name, 'not' or '('; found \(token.kind.quoted)", offset: token.offset)
        }
        guard name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }) else {
            throw ConditionSyntaxError("field names are lower-case letters, digits and '_': found '\(name)'",
                                       offset: token.offset)
        }
        let field = Condition.Field(name, offset: token.offset)
        guard let op = next() else {
            throw ConditionSyntaxError("expected 'is null', 'is not null' or a comparison after '\(name)'; found the end of the condition",
                                       offset: end)
        }
        if op.isKeyword("is") {
            var negated = false
            var after = next()
            if let word = after, word.isKeyword("not") { negated = true; after = next() }
            guard let null = after, null.isKeyword("null") else {
                throw ConditionSyntaxError("expected 'null' after 'is\(negated ? " not" : "")'; found \(found(after))",
                                           offset: after?.offset ?? end)
            }
            return .isNull(field, negated: negated)
        }
        guard case .op(let comparison) = op.kind else {
            throw ConditionSyntaxError("expected 'is null', 'is not null' or one of = != < > <= >= after '\(name)'; found \(op.kind.quoted)",
                                       offset: op.offset)
        }
        let literalToken = next()
        switch literalToken?.kind {
        case .string(let text): return .comparison(field, comparison, .string(text))
        case .number(let literal): return .comparison(field, comparison, literal)
        case .word(let word) where word.lowercased() == "null":
            throw ConditionSyntaxError("compare with null using 'is null' or 'is not null', not '\(comparison.rawValue) null'",
                                       offset: op.offset)
        case .word(let word):
            throw ConditionSyntaxError("expected a number or a quoted string after '\(comparison.rawValue)'; found '\(word)' (quote text: '\(word)')",
                                       offset: literalToken!.offset)
        default:
            throw ConditionSyntaxError("expected a number or a quoted string after '\(comparison.rawValue)'; found \(found(literalToken))",
                                       offset: literalToken?.offset ?? end)
        }
    }
}
