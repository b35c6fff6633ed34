import TSDB

/// `max/min/sum/avg_over_time(selector[range])` in an instant query, asked of the TSDB as one
/// aggregate over the window: chunks wholly inside it answer from their summaries (count, min,
/// max, sum) without being decoded, so a day-long window costs what its two edge chunks cost.
///
/// The engine's aggregates agree with Prometheus' where it matters: min and max skip NaN (as
/// Prometheus' comparisons do, and so skip staleness markers); a NaN or staleness marker in a
/// sum or mean makes it NaN, and an all-NaN window gives ±Inf. Any such non-finite answer is
/// thrown away and the selector fetched sample by sample instead, which is then exact. Counts
/// are never pushed down: a staleness marker would be counted.
extension Evaluator {
    static let pushdownAggregations: [String: Aggregation] = [
        "max_over_time": .max, "min_over_time": .min, "sum_over_time": .sum, "avg_over_time": .avg,
    ]

    /// Selector ids an instant query can push down, with the aggregation each needs.
    func pushdownCandidates(_ e: Expr) -> [Int: Aggregation] {
        guard allowPushdown, start == end else { return [:] }
        var out: [Int: Aggregation] = [:]
        func walk(_ e: Expr) {
            switch e {
            case .number, .string, .vector, .matrix: return
            case .call(let f, let args):
                if args.count == 1, let agg = Self.pushdownAggregations[f.name], case .matrix(let vs, _) = args[0].unwrapped {
                    out[vs.id] = agg
                    return
                }
                args.forEach(walk)
            case .aggregate(let a):
                if let p = a.param { walk(p) }
                walk(a.expr)
            case .binary(let b): walk(b.lhs); walk(b.rhs)
            case .unaryMinus(let x), .paren(let x): walk(x)
            }
        }
        walk(e)
        return out
    }

    /// One value per series for the window `q` covers, or nil when any is not finite.
    func pushdown(_ q: Query, _ agg: Aggregation, from db: TSDB) throws(PromQLError) -> [Sample]? {
        var q = q
        q.aggregation = agg
        let result = try PromQLError.query(db, q)
        var out: [Sample] = []
        out.reserveCapacity(result.series.count)
        for s in result.series {
            guard let v = s.values.first, s.values.count == 1, v.isFinite else { return nil }
            out.append(Sample(labels: s.labels, value: v))
        }
        out.sort { Labels.promLess($0.labels, $1.labels) }
        return out
    }
}
