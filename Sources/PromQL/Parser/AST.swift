import TSDB

/// The type an expression evaluates to, as PromQL's type checker sees it.
public enum ValueType: String, Sendable {
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
public enum AtModifier: Sendable, Equatable {
    case time(Int64)
    case start
    case end
}

/// `metric{label="value", …} offset 5m @ 1700000000`. Times are milliseconds, as in Prometheus.
public struct VectorSelector: Sendable {
    /// Identifies the selector inside one parsed expression: its samples are fetched once.
    public var id: Int
    public var name: String?
    /// Every matcher, including the `__name__` one that `name` implies.
    public var matchers: [LabelMatcher]
    public var offset: Int64 = 0
    public var at: AtModifier?
}

public enum BinaryOp: String, Sendable, CaseIterable {
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

public enum Cardinality: Sendable { case oneToOne, manyToOne, oneToMany, manyToMany }

/// `on(…)`/`ignoring(…)` and `group_left(…)`/`group_right(…)` of a binary operation.
public struct VectorMatching: Sendable {
    public var card: Cardinality
    public var on: Bool = false
    public var labels: [String] = []
    public var include: [String] = []
}

public enum AggregateOp: String, Sendable, CaseIterable {
    case sum, avg, count, min, max, group, stddev, stdvar, topk, bottomk, quantile
    case countValues = "count_values"

    var takesParameter: Bool {
        switch self {
        case .topk, .bottomk, .quantile, .countValues: return true
        default: return false
        }
    }
}

public struct AggregateExpr: Sendable {
    public var op: AggregateOp
    public var expr: Expr
    public var param: Expr?
    public var grouping: [String]
    public var without: Bool
}

public struct BinaryExpr: Sendable {
    public var op: BinaryOp
    public var lhs: Expr
    public var rhs: Expr
    public var matching: VectorMatching?
    public var returnBool: Bool
}

/// A parsed PromQL expression.
public indirect enum Expr: Sendable {
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

    public var type: ValueType {
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
