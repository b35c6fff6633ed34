import TSDB

/// Parses PromQL into an ``Expr`` and type-checks it the way Prometheus 2.42's parser does.
/// Syntax errors and type errors throw ``PromQLError/badData(_:)``; constructs Prometheus has
/// but this engine does not evaluate (subqueries, some functions) throw
/// ``PromQLError/unsupported(_:)``.
///
/// ```swift
/// let expr = try PromQLParser.parse("sum by (Hostname) (rate(DCGM_FI_PROF_PIPE_TENSOR_ACTIVE[5m]))")
/// ```
package struct PromQLParser {
    private var tokens: [Token]
    private var pos = 0
    private var nextSelectorID = 0

    package static func parse(_ text: String) throws(PromQLError) -> Expr {
        var p = PromQLParser(tokens: try Lexer.tokenize(text))
        guard p.peek != .eof else { throw .badData("1:1: parse error: no expression found in input") }
        let e = try p.expression(0)
        guard p.peek == .eof else { throw p.unexpected("") }
        return e
    }

    /// Parses a series selector as `match[]` takes it (`up{job="x"}` or `{job="x"}`).
    package static func parseSelector(_ text: String) throws(PromQLError) -> VectorSelector {
        let e = try parse(text)
        guard case .vector(let vs) = e, vs.offset == 0, vs.at == nil else {
            throw .badData("invalid parameter \"match[]\": 1:1: parse error: expected a series selector, got \"\(text)\"")
        }
        return vs
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    private var peek: Token.Kind { tokens[pos].kind }
    private var offset: Int { tokens[pos].offset }
    private mutating func advance() -> Token.Kind { let k = tokens[pos].kind; if pos < tokens.count - 1 { pos += 1 }; return k }
    private func isSymbol(_ s: String) -> Bool { peek == .symbol(s) }
    private func isWord(_ w: String) -> Bool { if case .identifier(let x) = peek { return x.lowercased() == w }; return false }

    private func unexpected(_ context: String) -> PromQLError {
        let what: String
        switch peek {
        case .eof: what = "end of input"
        case .identifier(let s): what = "identifier \"\(s)\""
        case .number(let v): what = "number \"\(v)\""
        case .duration: what = "duration"
        case .string(let s): what = "string \"\(s)\""
        case .symbol(let s): what = "\"\(s)\""
        }
        return .badData("1:\(offset + 1): parse error: unexpected \(what)\(context.isEmpty ? "" : " \(context)")")
    }

    private mutating func expect(_ s: String, _ context: String) throws(PromQLError) {
        guard isSymbol(s) else { throw unexpected(context) }
        _ = advance()
    }

    // MARK: Binary expressions (precedence climbing)

    private func binaryOp() -> BinaryOp? {
        switch peek {
        case .symbol(let s): return ["+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<="].contains(s) ? BinaryOp(rawValue: s) : nil
        case .identifier(let w):
            switch w.lowercased() { case "and": return .and; case "or": return .or; case "unless": return .unless; case "atan2": return .atan2; default: return nil }
        default: return nil
        }
    }

    private mutating func expression(_ minPrec: Int) throws(PromQLError) -> Expr {
        var lhs = try unary()
        while let op = binaryOp(), op.precedence >= minPrec {
            _ = advance()
            var returnBool = false
            if isWord("bool") { _ = advance(); returnBool = true }
            var matching: VectorMatching?
            if isWord("on") || isWord("ignoring") {
                let on = isWord("on")
                _ = advance()
                matching = VectorMatching(card: .oneToOne, on: on, labels: try labelList())
            }
            if isWord("group_left") || isWord("group_right") {
                let left = isWord("group_left")
                _ = advance()
                var m = matching ?? VectorMatching(card: .oneToOne)
                m.card = left ? .manyToOne : .oneToMany
                if isSymbol("(") { m.include = try labelList() }
                matching = m
            }
            // ^ is right-associative, everything else left.
            let rhs = try expression(op == .pow ? op.precedence : op.precedence + 1)
            lhs = try Self.checkBinary(BinaryExpr(op: op, lhs: lhs, rhs: rhs, matching: matching, returnBool: returnBool))
        }
        return lhs
    }

    private mutating func unary() throws(PromQLError) -> Expr {
        if isSymbol("-") || isSymbol("+") {
            let minus = isSymbol("-")
            _ = advance()
            // Unary minus binds like multiplication: only ^ binds tighter.
            let e = try expression(BinaryOp.pow.precedence)
            guard e.type == .scalar || e.type == .vector else {
                throw .badData("unary expression only allowed on expressions of type scalar or instant vector, got \"\(e.type.promName)\"")
            }
            if !minus { return e }
            if case .number(let v) = e { return .number(-v) }
            return .unaryMinus(e)
        }
        return try postfix(try primary())
    }

    static func checkBinary(_ b: BinaryExpr) throws(PromQLError) -> Expr {
        var b = b
        let lt = b.lhs.type, rt = b.rhs.type
        for t in [lt, rt] where t != .scalar && t != .vector {
            throw .badData("binary expression must contain only scalar and instant vector types")
        }
        if b.returnBool && !b.op.isComparison { throw .badData("bool modifier can only be used on comparison operators") }
        if b.op.isComparison && lt == .scalar && rt == .scalar && !b.returnBool {
            throw .badData("comparisons between scalars must use BOOL modifier")
        }
        if b.op.isSetOperator {
            if lt == .scalar || rt == .scalar { throw .badData("set operator \"\(b.op.rawValue)\" not allowed in binary scalar expression") }
            if let m = b.matching, m.card == .manyToOne || m.card == .oneToMany {
                throw .badData("no grouping allowed for \"\(b.op.rawValue)\" operation")
            }
            var m = b.matching ?? VectorMatching(card: .manyToMany)
            m.card = .manyToMany
            b.matching = m
        }
        if (lt != .vector || rt != .vector), let m = b.matching, !m.labels.isEmpty || m.on || m.card != .oneToOne {
            throw .badData("vector matching only allowed between instant vectors")
        }
        if lt == .vector && rt == .vector && b.matching == nil { b.matching = VectorMatching(card: .oneToOne) }
        if let m = b.matching, m.on {
            for l in m.include where m.labels.contains(l) {
                throw .badData("label \"\(l)\" must not occur in ON and GROUP clause at once")
            }
        }
        return .binary(b)
    }

    // MARK: Primary expressions

    private mutating func primary() throws(PromQLError) -> Expr {
        switch peek {
        case .number(let v): _ = advance(); return .number(v)
        case .string(let s): _ = advance(); return .string(s)
        case .symbol("("):
            _ = advance()
            let e = try expression(0)
            try expect(")", "in parenthesized expression, expected \")\"")
            return .paren(e)
        case .symbol("{"):
            return .vector(try selector(name: nil))
        case .identifier(let word):
            _ = advance()
            if let agg = AggregateOp(rawValue: word.lowercased()), isSymbol("(") || isWord("by") || isWord("without") {
                return try aggregate(agg)
            }
            if isSymbol("(") {
                if let f = Function.table[word] { return try call(f) }
                if Function.unsupported.contains(word) { throw .unsupported("function \"\(word)\"") }
                throw .badData("1:\(offset): parse error: unknown function with name \"\(word)\"")
            }
            if ["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless"].contains(word.lowercased()) {
                pos -= 1
                throw unexpected("")
            }
            return .vector(try selector(name: word))
        default:
            throw unexpected("")
        }
    }

    private mutating func selector(name: String?) throws(PromQLError) -> VectorSelector {
        var matchers: [LabelMatcher] = []
        if let name { matchers.append(try Self.matcher(Labels.metricName, .equal, name)) }
        if isSymbol("{") {
            _ = advance()
            while !isSymbol("}") {
                guard case .identifier(let label) = advance() else { pos -= 1; throw unexpected("in label matching, expected label") }
                let op: LabelMatcher.Operator
                switch advance() {
                case .symbol("="): op = .equal
                case .symbol("!="): op = .notEqual
                case .symbol("=~"): op = .regex
                case .symbol("!~"): op = .notRegex
                default: pos -= 1; throw unexpected("in label matching, expected one of \"=\", \"!=\", \"=~\" or \"!~\"")
                }
                guard case .string(let value) = advance() else { pos -= 1; throw unexpected("in label matching, expected string") }
                if let name, label == Labels.metricName { throw .badData("metric name must not be set twice: \"\(name)\" or \"\(value)\"") }
                matchers.append(try Self.matcher(label, op, value))
                if isSymbol(",") { _ = advance() } else if !isSymbol("}") { throw unexpected("in label matching, expected \",\" or \"}\"") }
            }
            _ = advance()
        }
        guard matchers.contains(where: { !$0.matchesEmpty }) else {
            throw .badData("vector selector must contain at least one non-empty matcher")
        }
        defer { nextSelectorID += 1 }
        let metric = matchers.first { $0.name == Labels.metricName && $0.op == .equal }?.value
        return VectorSelector(id: nextSelectorID, name: metric, matchers: matchers)
    }

    static func matcher(_ name: String, _ op: LabelMatcher.Operator, _ value: String) throws(PromQLError) -> LabelMatcher {
        do { return try LabelMatcher(name, op, value) } catch {
            throw .badData("parse error: \(error.description)")
        }
    }

    private mutating func labelList() throws(PromQLError) -> [String] {
        try expect("(", "in grouping opts, expected \"(\"")
        var out: [String] = []
        while !isSymbol(")") {
            guard case .identifier(let l) = advance() else { pos -= 1; throw unexpected("in grouping opts, expected label") }
            guard !l.contains(":") else { throw .badData("1:\(offset): parse error: invalid label name \"\(l)\"") }
            out.append(l)
            if isSymbol(",") { _ = advance() } else if !isSymbol(")") { throw unexpected("in grouping opts, expected \",\" or \")\"") }
        }
        _ = advance()
        return out
    }

    private mutating func aggregate(_ op: AggregateOp) throws(PromQLError) -> Expr {
        var grouping: [String] = []
        var without = false
        var modifierSeen = false
        if isWord("by") || isWord("without") {
            without = isWord("without"); _ = advance()
            grouping = try labelList(); modifierSeen = true
        }
        try expect("(", "in aggregation, expected \"(\"")
        let args = try arguments(in: "in aggregation")
        if !modifierSeen, isWord("by") || isWord("without") {
            without = isWord("without"); _ = advance()
            grouping = try labelList()
        }
        let want = op.takesParameter ? 2 : 1
        guard args.count == want else {
            throw .badData("wrong number of arguments for aggregate expression provided, expected \(want), got \(args.count)")
        }
        let expr = args[want - 1]
        guard expr.type == .vector else {
            throw .badData("expected type instant vector in aggregation expression, got \(expr.type.promName)")
        }
        var param: Expr?
        if op.takesParameter {
            let p = args[0]
            let need: ValueType = op == .countValues ? .string : .scalar
            guard p.type == need else { throw .badData("expected type \(need.promName) in aggregation parameter, got \(p.type.promName)") }
            param = p
        }
        return .aggregate(AggregateExpr(op: op, expr: expr, param: param, grouping: grouping, without: without))
    }

    /// The comma-separated expressions after an opening parenthesis, through the closing one;
    /// `context` ("in aggregation") starts the message when neither `,` nor `)` follows one.
    private mutating func arguments(in context: String) throws(PromQLError) -> [Expr] {
        var args: [Expr] = []
        while !isSymbol(")") {
            args.append(try expression(0))
            if isSymbol(",") { _ = advance() } else if !isSymbol(")") { throw unexpected("\(context), expected \",\" or \")\"") }
        }
        _ = advance()
        return args
    }

    private mutating func call(_ f: Function) throws(PromQLError) -> Expr {
        try expect("(", "")
        let args = try arguments(in: "in call to \(f.name)")
        let minArgs = f.optional == -1 ? f.args.count : f.args.count - f.optional
        let maxArgs = f.optional == -1 ? Int.max : f.args.count
        guard args.count >= minArgs, args.count <= maxArgs else {
            throw .badData("expected \(minArgs == f.args.count ? "" : "at least ")\(minArgs) argument(s) in call to \"\(f.name)\", got \(args.count)")
        }
        for (k, a) in args.enumerated() {
            let want = f.args[min(k, f.args.count - 1)]
            guard a.type == want else {
                throw .badData("expected type \(want.promName) in call to function \"\(f.name)\", got \(a.type.promName)")
            }
        }
        return .call(f, args)
    }

    // MARK: Postfix: [range], [range:step], offset, @

    private mutating func postfix(_ e: Expr) throws(PromQLError) -> Expr {
        var e = e
        while true {
            if isSymbol("[") {
                _ = advance()
                guard case .duration(let range) = advance() else { pos -= 1; throw unexpected("in subquery or range selector, expected duration") }
                if isSymbol(":") { throw .unsupported("subqueries (expr[range:step])") }
                try expect("]", "in range selector, expected \"]\"")
                guard case .vector(let vs) = e else {
                    throw .badData("ranges only allowed for vector selectors")
                }
                guard vs.offset == 0, vs.at == nil else { throw .badData("1:\(offset): parse error: offset and @ must follow the range: x[5m] offset 1m") }
                guard range > 0 else { throw .badData("range selector must be positive") }
                e = .matrix(vs, range: range)
            } else if isWord("offset") {
                _ = advance()
                var sign: Int64 = 1
                if isSymbol("-") { _ = advance(); sign = -1 } else if isSymbol("+") { _ = advance() }
                guard case .duration(let d) = advance() else { pos -= 1; throw unexpected("in offset, expected duration") }
                e = try modify(e) { (vs: inout VectorSelector) throws(PromQLError) in
                    guard vs.offset == 0 else { throw .badData("offset may not be set multiple times") }
                    vs.offset = sign * d
                }
            } else if isSymbol("@") {
                _ = advance()
                let at: AtModifier
                var sign = 1.0
                if isSymbol("-") { _ = advance(); sign = -1 } else if isSymbol("+") { _ = advance() }
                switch advance() {
                case .number(let v):
                    guard v.isFinite, abs(v) < 9.2e15 else { throw .badData("timestamp out of bounds for @ modifier: \(v)") }
                    at = .time(Int64((sign * v * 1000).rounded()))
                case .identifier(let w) where w == "start" || w == "end":
                    try expect("(", "in @, expected \"(\""); try expect(")", "in @, expected \")\"")
                    at = w == "start" ? .start : .end
                default: pos -= 1; throw unexpected("in @, expected timestamp, start() or end()")
                }
                e = try modify(e) { (vs: inout VectorSelector) throws(PromQLError) in
                    guard vs.at == nil else { throw .badData("@ <timestamp> may not be set multiple times") }
                    vs.at = at
                }
            } else {
                return e
            }
        }
    }

    private func modify(_ e: Expr, _ f: (inout VectorSelector) throws(PromQLError) -> Void) throws(PromQLError) -> Expr {
        switch e {
        case .vector(var vs): try f(&vs); return .vector(vs)
        case .matrix(var vs, let r): try f(&vs); return .matrix(vs, range: r)
        default: throw .badData("offset and @ modifiers must follow a selector or a range selector")
        }
    }
}
