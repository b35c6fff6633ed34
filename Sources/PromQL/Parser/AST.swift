import TSDB

/// The type an expression evaluates to, as PromQL's type checker sees it.
package enum ValueType: String, Sendable {
    case scalar, vector, matrix, string

    /// The name Prometheus uses in its messages and its JSON `resultType`.
    var promName: String {
        switch self {
        case .scalar: return "scalar"
        case .vector: return "instant vector"
        case .matrix: return "range vector"
        case .string: return "string"
        }
    }
}

/// Where `@` pins a selector: a fixed time, or the query's start or end.
package enum AtModifier: Sendable, Equatable {
    case time(Int64)
    case start
    case end
}

/// `metric{label="value", …} offset 5m @ 1700000000`. Times are milliseconds, as in Prometheus.
package struct VectorSelector: Sendable {
    /// Identifies the selector inside one parsed expression: its samples are fetched once.
    package var id: Int
    package var name: String?
    /// Every matcher, including the `__name__` one that `name` implies.
    package var matchers: [LabelMatcher]
    package var offset: Int64 = 0
    package var at: AtModifier?
}

package enum BinaryOp: String, Sendable, CaseIterable {
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%", pow = "^", atan2
    case eql = "==", neq = "!=", gtr = ">", lss = "<", gte = ">=", lte = "<="
    case and, or, unless

    var isComparison: Bool {
        switch self {
        case .eql, .neq, .gtr, .lss, .gte, .lte: return true
        default: return false
        }
    }

    var isSetOperator: Bool { self == .and || self == .or || self == .unless }

    /// Binding strength: higher binds tighter (Prometheus' grammar).
    var precedence: Int {
        switch self {
        case .or: return 1
        case .and, .unless: return 2
        case .eql, .neq, .gtr, .lss, .gte, .lte: return 3
        case .add, .sub: return 4
        case .mul, .div, .mod, .atan2: return 5
        case .pow: return 6
        }
    }

    /// Arithmetic drops the metric name; comparisons and set operators keep it.
    var dropsMetricName: Bool {
        switch self {
        case .add, .sub, .mul, .div, .mod, .pow: return true
        default: return false
        }
    }
}

package enum Cardinality: Sendable { case oneToOne, manyToOne, oneToMany, manyToMany }

/// `on(…)`/`ignoring(…)` and `group_left(…)`/`group_right(…)` of a binary operation.
package struct VectorMatching: Sendable {
    package var card: Cardinality
    package var on: Bool = false
    package var labels: [String] = []
    package var include: [String] = []
}

package enum AggregateOp: String, Sendable, CaseIterable {
    case sum, avg, count, min, max, group, stddev, stdvar, topk, bottomk, quantile
    case countValues = "count_values"

    var takesParameter: Bool {
        switch self {
        case .topk, .bottomk, .quantile, .countValues: return true
        default: return false
        }
    }
}

package struct AggregateExpr: Sendable {
    package var op: AggregateOp
    package var expr: Expr
    package var param: Expr?
    package var grouping: [String]
    package var without: Bool
}

package struct BinaryExpr: Sendable {
    package var op: BinaryOp
    package var lhs: Expr
    package var rhs: Expr
    package var matching: VectorMatching?
    package var returnBool: Bool
}

/// A parsed PromQL expression.
package indirect enum Expr: Sendable {
    case number(Double)
    case string(String)
    case vector(VectorSelector)
    /// `selector[range]`; the range in milliseconds.
    case matrix(VectorSelector, range: Int64)
    case aggregate(AggregateExpr)
    case call(Function, [Expr])
    case binary(BinaryExpr)
    case unaryMinus(Expr)
    case paren(Expr)

    package var type: ValueType {
        switch self {
        case .number: return .scalar
        case .string: return .string
        case .vector, .aggregate: return .vector
        case .matrix: return .matrix
        case .call(let f, _): return f.returns
        case .binary(let b): return b.lhs.type == .scalar && b.rhs.type == .scalar ? .scalar : .vector
        case .unaryMinus(let e), .paren(let e): return e.type
        }
    }

    /// The expression without enclosing parentheses.
    var unwrapped: Expr {
        if case .paren(let e) = self { return e.unwrapped }
        return self
    }
}
