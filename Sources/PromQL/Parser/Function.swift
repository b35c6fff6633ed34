/// A PromQL function this engine evaluates: its argument types and result type, as
/// Prometheus 2.42 declares them. Functions Prometheus has and this table lacks are refused
/// by name with a 422 (never evaluated to a guess).
package struct Function: Sendable {
    package let name: String
    package let args: [ValueType]
    /// How many trailing arguments may be left out (-1: the last one repeats, as label_join).
    package let optional: Int
    package let returns: ValueType

    static let table: [String: Function] = {
        var t: [String: Function] = [:]
        func add(_ name: String, _ args: [ValueType], optional: Int = 0, returns: ValueType = .vector) {
            t[name] = Function(name: name, args: args, optional: optional, returns: returns)
        }
        for name in ["rate", "irate", "increase", "delta", "idelta", "deriv", "changes", "resets",
                     "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
                     "last_over_time", "present_over_time", "stddev_over_time", "stdvar_over_time",
                     "absent_over_time"] {
            add(name, [.matrix])
        }
        add("quantile_over_time", [.scalar, .matrix])
        add("predict_linear", [.matrix, .scalar])
        add("holt_winters", [.matrix, .scalar, .scalar])
        for name in ["abs", "ceil", "floor", "exp", "sqrt", "ln", "log2", "log10", "sgn", "deg", "rad",
                     "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
                     "sort", "sort_desc", "absent", "timestamp"] {
            add(name, [.vector])
        }
        add("round", [.vector, .scalar], optional: 1)
        add("clamp", [.vector, .scalar, .scalar])
        add("clamp_min", [.vector, .scalar])
        add("clamp_max", [.vector, .scalar])
        add("scalar", [.vector], returns: .scalar)
        add("vector", [.scalar])
        add("time", [], returns: .scalar)
        add("pi", [], returns: .scalar)
        add("label_replace", [.vector, .string, .string, .string, .string])
        add("label_join", [.vector, .string, .string, .string], optional: -1)
        add("histogram_quantile", [.scalar, .vector])
        return t
    }()

    /// Functions of Prometheus 2.42 that this engine does not evaluate.
    static let unsupported: Set<String> = [
        "day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year",
        "histogram_count", "histogram_sum", "histogram_fraction",
    ]
}
