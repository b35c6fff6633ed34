import TSDB

/// Evaluates one parsed expression at instants of one query. Every selector's samples are
/// fetched from the TSDB once, for the whole window all steps need (matchers and time range
/// pushed down to ``TSDB/query(_:)``); each step then only binary-searches them. This is how
/// Prometheus' engine evaluates too (one pass over each selector's series per query), so
/// per-step semantics (lookback, ranges closed at both ends in 2.42, extrapolation) match.
final class Evaluator {
    let start: Int64
    let end: Int64
    let step: Int64
    let lookback: Int64
    let deadline: ContinuousClock.Instant?
    /// Raw samples of each selector, by ``VectorSelector/id``, series in Prometheus' label order.
    private(set) var data: [Int: [Series]] = [:]
    var samplesFetched = 0
    /// Per-series answers of `*_over_time` selectors the TSDB aggregated (see Pushdown.swift).
    var pushed: [Int: [Sample]] = [:]
    var allowPushdown = true
    /// label_replace's compiled patterns, compiled once per query rather than once per step.
    var regexes: [String: GoRegex] = [:]

    init(start: Int64, end: Int64, step: Int64, lookback: Int64, deadline: ContinuousClock.Instant?) {
        self.start = start
        self.end = end
        self.step = step
        self.lookback = lookback
        self.deadline = deadline
    }

    // MARK: Fetching

    /// Fetches every selector of `expr` from the database.
    func fetch(_ expr: Expr, from db: TSDB, limits: QueryLimits?) throws(PromQLError) {
        var selectors: [(VectorSelector, Int64)] = []
        Self.collect(expr, into: &selectors, lookback: lookback)
        var matrices = Set<Int>()
        Self.collectMatrices(expr, into: &matrices)
        let candidates = pushdownCandidates(expr)
        // `a / (a + b)` names `a` twice: one fetch serves every selector asking the same thing.
        var fetched: [String: [Series]] = [:]
        for (vs, window) in selectors {
            let isMatrix = matrices.contains(vs.id)
            let (lo, hi) = refRange(vs)
            let from = lo - window, to = hi
            var q = Query(metric: vs.name, matchers: vs.matchers.filter { !($0.name == Labels.metricName && $0.op == .equal) },
                          start: Self.nanos(from), end: Self.nanos(to) + 999_999)
            q.limits = limits
            if let agg = candidates[vs.id], let values = try pushdown(q, agg, from: db) {
                pushed[vs.id] = values
                continue
            }
            let key = Self.fetchKey(q, dropStale: isMatrix)
            if let same = fetched[key] {
                data[vs.id] = same
                samplesFetched += same.reduce(0) { $0 + $1.timestamps.count }
                continue
            }
            // Timestamps come in milliseconds, one array shared by the series of one scrape.
            var result = try PromQLError.rawSamples(db, q)
            var out: [Series] = []
            out.reserveCapacity(result.series.count)
            // Whether a timestamps array holds ties, by its storage: series of one scrape share
            // one array, looked at once. (Every array stays alive in `result` or `out` meanwhile,
            // so no storage address is reused inside this loop.)
            var tiesIn: [UnsafeRawPointer: Bool] = [:]
            for i in result.series.indices {
                // Moved out, so a series that needs no change keeps the shared arrays.
                var ts: [Int64] = [], vs: [Double] = []
                swap(&ts, &result.series[i].timestamps)
                swap(&vs, &result.series[i].values)
                let tied = ts.withUnsafeBufferPointer { t -> Bool in
                    guard let base = t.baseAddress else { return false }
                    if let known = tiesIn[UnsafeRawPointer(base)] { return known }
                    let found = Self.hasTies(t)
                    tiesIn[UnsafeRawPointer(base)] = found
                    return found
                }
                Self.normalise(&ts, &vs, dropStale: isMatrix, tied: tied)
                samplesFetched += ts.count
                out.append(Series(labels: result.series[i].labels, timestamps: ts, values: vs))
            }
            out.removeAll { $0.timestamps.isEmpty }
            out.sort { Labels.promLess($0.labels, $1.labels) }
            data[vs.id] = out
            fetched[key] = out
        }
    }

    /// What a fetch asks for, spelled unambiguously (lengths before names and values).
    static func fetchKey(_ q: Query, dropStale: Bool) -> String {
        var key = "\(dropStale) \(q.start) \(q.end) \(q.metric.map { "\($0.utf8.count):\($0)" } ?? "-")"
        for m in q.matchers { key += " \(m.name.utf8.count):\(m.name)\(m.op.rawValue)\(m.value.utf8.count):\(m.value)" }
        return key
    }

    /// A series' samples (timestamps already in milliseconds) on Prometheus' clock: samples
    /// that fell on one millisecond keep the later one (as a newer write would). Range
    /// selectors never see staleness markers (`dropStale`); instant ones stop at them. The
    /// arrays are only written (so copied, when shared) where something changes.
    /// `tied`: whether `ts` has two equal neighbours (``hasTies(_:)``), when the caller knows.
    static func normalise(_ ts: inout [Int64], _ vs: inout [Double], dropStale: Bool, tied: Bool? = nil) {
        let n = min(ts.count, vs.count)
        let clean = ts.withUnsafeBufferPointer { t in
            vs.withUnsafeBufferPointer { v in
                let tied = tied ?? hasTies(t)
                var stale = false
                if dropStale && !tied {
                    // Counted, not searched: a count compiles to vector compares, where an OR
                    // (or a break) is turned back into a search that stops at the first hit.
                    var hits: UInt64 = 0
                    for i in 0..<n { hits &+= v[i].bitPattern == staleNaN ? 1 : 0 }
                    stale = hits != 0
                }
                return !tied && !stale && ts.count == vs.count
            }
        }
        if clean { return }
        var k = 0
        ts.withUnsafeMutableBufferPointer { t in
            vs.withUnsafeMutableBufferPointer { v in
                for i in 0..<n {
                    let x = v[i]
                    if dropStale && x.bitPattern == staleNaN { continue }
                    let ms = t[i]
                    if k > 0 && t[k - 1] == ms { v[k - 1] = x; continue }
                    t[k] = ms; v[k] = x
                    k += 1
                }
            }
        }
        ts.removeLast(ts.count - k); vs.removeLast(vs.count - k)
    }

    /// Whether two neighbouring timestamps are equal.
    static func hasTies(_ t: UnsafeBufferPointer<Int64>) -> Bool {
        guard t.count > 1 else { return false }
        var hits: UInt64 = 0
        for i in 1..<t.count { hits &+= t[i] == t[i - 1] ? 1 : 0 }
        return hits != 0
    }

    static func collect(_ e: Expr, into out: inout [(VectorSelector, Int64)], lookback: Int64) {
        switch e {
        case .number, .string: return
        case .vector(let vs): out.append((vs, lookback))
        case .matrix(let vs, let range): out.append((vs, range))
        case .aggregate(let a):
            if let p = a.param { collect(p, into: &out, lookback: lookback) }
            collect(a.expr, into: &out, lookback: lookback)
        case .call(_, let args): for a in args { collect(a, into: &out, lookback: lookback) }
        case .binary(let b): collect(b.lhs, into: &out, lookback: lookback); collect(b.rhs, into: &out, lookback: lookback)
        case .unaryMinus(let x), .paren(let x): collect(x, into: &out, lookback: lookback)
        }
    }

    /// Prometheus' staleness marker (`value.StaleNaN`): the series ended here (its target
    /// went away or stopped exposing it). remote_write carries these; they are not values.
    static let staleNaN: UInt64 = 0x7FF0_0000_0000_0002

    static func isStale(_ v: Double) -> Bool { v.bitPattern == staleNaN }

    /// Ids of the selectors used as range vectors.
    static func collectMatrices(_ e: Expr, into out: inout Set<Int>) {
        switch e {
        case .number, .string, .vector: return
        case .matrix(let vs, _): out.insert(vs.id)
        case .aggregate(let a):
            if let p = a.param { collectMatrices(p, into: &out) }
            collectMatrices(a.expr, into: &out)
        case .call(_, let args): for a in args { collectMatrices(a, into: &out) }
        case .binary(let b): collectMatrices(b.lhs, into: &out); collectMatrices(b.rhs, into: &out)
        case .unaryMinus(let x), .paren(let x): collectMatrices(x, into: &out)
        }
    }

    static func nanos(_ ms: Int64) -> Int64 {
        let (v, o) = ms.multipliedReportingOverflow(by: 1_000_000)
        return o ? (ms < 0 ? .min / 2 : .max / 2) : v
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// The time a selector reads at when the query evaluates at `t`.
    func refTime(_ vs: VectorSelector, _ t: Int64) -> Int64 {
        let base: Int64
        switch vs.at {
        case .none: base = t
        case .time(let x): base = x
        case .start: base = start
        case .end: base = end
        }
        return base - vs.offset
    }

    private func refRange(_ vs: VectorSelector) -> (Int64, Int64) {
        vs.at == nil ? (start - vs.offset, end - vs.offset) : (refTime(vs, start), refTime(vs, start))
    }

    func checkDeadline() throws(PromQLError) {
        if let deadline, ContinuousClock.now > deadline {
            throw .timeout("query timed out in expression evaluation")
        }
    }

    // MARK: Evaluation

    func eval(_ e: Expr, at t: Int64) throws(PromQLError) -> InstantValue {
        switch e {
        case .number(let v): return .scalar(v)
        case .string(let s): return .string(s)
        case .paren(let x): return try eval(x, at: t)
        case .vector(let vs): return .vector(select(vs, at: t))
        case .matrix(let vs, let range):
            let ref = refTime(vs, t)
            var out: [Series] = []
            for s in data[vs.id] ?? [] {
                let (lo, hi) = Self.window(s.timestamps, from: ref - range, to: ref)
                if lo < hi { out.append(Series(labels: s.labels, timestamps: Array(s.timestamps[lo..<hi]), values: Array(s.values[lo..<hi]))) }
            }
            return .matrix(out)
        case .unaryMinus(let x):
            switch try eval(x, at: t) {
            case .scalar(let v): return .scalar(-v)
            case .vector(let v):
                return try unique(.vector(v.map { Sample(labels: $0.labels.droppingMetricName, value: -$0.value) }))
            default: throw .execution("unary minus on a \(x.type.promName)")
            }
        case .aggregate(let a): return try unique(try aggregate(a, at: t))
        case .call(let f, let args): return try unique(try call(f, args, at: t))
        case .binary(let b): return try unique(try binary(b, at: t))
        }
    }

    /// The instant vector a selector gives at `t`: each series' newest sample no older than
    /// the lookback delta (closed at both ends, as Prometheus 2.42).
    func select(_ vs: VectorSelector, at t: Int64) -> [Sample] {
        let ref = refTime(vs, t)
        var out: [Sample] = []
        for s in data[vs.id] ?? [] {
            if let k = Self.lastAtOrBefore(s.timestamps, ref), s.timestamps[k] >= ref - lookback, !Self.isStale(s.values[k]) {
                out.append(Sample(labels: s.labels, value: s.values[k]))
            }
        }
        return out
    }

    /// Like ``select(_:at:)`` but with each sample's own timestamp (for `timestamp()`).
    func selectWithTime(_ vs: VectorSelector, at t: Int64) -> [(Sample, Int64)] {
        let ref = refTime(vs, t)
        var out: [(Sample, Int64)] = []
        for s in data[vs.id] ?? [] {
            if let k = Self.lastAtOrBefore(s.timestamps, ref), s.timestamps[k] >= ref - lookback, !Self.isStale(s.values[k]) {
                out.append((Sample(labels: s.labels, value: s.values[k]), s.timestamps[k]))
            }
        }
        return out
    }

    static func lastAtOrBefore(_ ts: [Int64], _ t: Int64) -> Int? {
        var lo = 0, hi = ts.count
        while lo < hi { let m = (lo + hi) >> 1; if ts[m] <= t { lo = m + 1 } else { hi = m } }
        return lo == 0 ? nil : lo - 1
    }

    /// Indices of the samples in [from, to].
    static func window(_ ts: [Int64], from: Int64, to: Int64) -> (Int, Int) {
        var lo = 0, hi = ts.count
        while lo < hi { let m = (lo + hi) >> 1; if ts[m] < from { lo = m + 1 } else { hi = m } }
        let a = lo
        hi = ts.count
        while lo < hi { let m = (lo + hi) >> 1; if ts[m] <= to { lo = m + 1 } else { hi = m } }
        return (a, lo)
    }

    private func unique(_ v: InstantValue) throws(PromQLError) -> InstantValue {
        guard case .vector(let samples) = v, samples.count > 1 else { return v }
        var seen = Set<Labels>()
        seen.reserveCapacity(samples.count)
        for s in samples where !seen.insert(s.labels).inserted {
            throw .execution("vector cannot contain metrics with the same labelset")
        }
        return v
    }
}
