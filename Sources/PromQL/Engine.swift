import Logging
import TSDB

/// Runs PromQL queries over a ``TSDB`` through its public query API, with Prometheus 2.42's
/// semantics: the 5 minute lookback, range queries evaluated at `start + k·step` up to `end`,
/// range selectors closed at both ends, and Prometheus' rate extrapolation.
///
/// ```swift
/// let engine = PromQLEngine(db: db)
/// let v = try engine.instantQuery("sum by (Hostname) (DCGM_FI_DEV_POWER_USAGE)", time: nowMillis)
/// ```
package struct PromQLEngine: Sendable {
    package let db: TSDB
    /// How far back an instant selector looks for a sample (Prometheus' `--query.lookback-delta`).
    package var lookbackDelta: Int64 = 5 * 60 * 1000
    /// Prometheus refuses range queries of more than 11,000 steps.
    package var maxPoints = 11_000
    /// Storage limits for the fetches a query makes (nil: the database's own).
    package var limits: QueryLimits?
    package var logger: Logger
    /// Range queries of the common shapes run series by series (``StepMatrix``); off, every
    /// query runs step by step (tests compare the two).
    var seriesAtATime = true
    /// Instant `max/min/sum/avg_over_time` are asked of the TSDB as aggregates (Pushdown.swift).
    var pushdownOverTime = true

    package init(db: TSDB, limits: QueryLimits? = nil, logger: Logger = Logger(label: "promql")) {
        self.db = db
        self.limits = limits
        self.logger = logger
    }

    /// Statistics of one query (samples the selectors fetched, steps evaluated).
    package struct Stats: Sendable {
        package var samplesFetched = 0
        package var steps = 0
    }

    /// Evaluates `query` at `time` (milliseconds).
    package func instantQuery(_ query: String, time: Int64, timeout: Duration? = nil) throws(PromQLError) -> (QueryValue, Stats) {
        let expr = try PromQLParser.parse(query)
        let ev = Evaluator(start: time, end: time, step: 1, lookback: lookbackDelta, deadline: timeout.map { ContinuousClock.now + $0 })
        ev.allowPushdown = pushdownOverTime
        try ev.fetch(expr, from: db, limits: limits)
        // The series-at-a-time path at one step: no window copied out per series. It gives
        // the step evaluator's order too, except topk/bottomk (heap order there), left to it.
        if seriesAtATime, ev.pushed.isEmpty, expr.type == .vector, !Self.selectsByRank(expr), let m = try ev.evalSeries(expr) {
            var samples: [Sample] = []
            samples.reserveCapacity(m.labels.count)
            for (i, labels) in m.labels.enumerated() where m.present[i] { samples.append(Sample(labels: labels, value: m.values[i])) }
            return (.vector(time: time, samples: samples), Stats(samplesFetched: ev.samplesFetched, steps: 1))
        }
        let value: QueryValue
        switch try ev.eval(expr, at: time) {
        case .scalar(let v): value = .scalar(time: time, value: v)
        case .string(let s): value = .string(time: time, value: s)
        case .vector(let v): value = .vector(time: time, samples: v)
        case .matrix(let m): value = .matrix(m)
        }
        return (value, Stats(samplesFetched: ev.samplesFetched, steps: 1))
    }

    /// Evaluates `query` at `start`, `start + step`, … up to `end` (milliseconds) and gives a
    /// matrix, series sorted by labels as Prometheus sorts them.
    package func rangeQuery(_ query: String, start: Int64, end: Int64, step: Int64, timeout: Duration? = nil) throws(PromQLError) -> (QueryValue, Stats) {
        guard end >= start else { throw .badData("end timestamp must not be before start time") }
        guard step > 0 else { throw .badData("zero or negative query resolution step widths are not accepted. Try a positive integer") }
        guard (end - start) / step < Int64(maxPoints) else {
            throw .badData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
        }
        let expr = try PromQLParser.parse(query)
        guard expr.type == .scalar || expr.type == .vector else {
            throw .badData("invalid expression type \"\(expr.type.promName)\" for range query, must be Scalar or instant Vector")
        }
        let ev = Evaluator(start: start, end: end, step: step, lookback: lookbackDelta, deadline: timeout.map { ContinuousClock.now + $0 })
        try ev.fetch(expr, from: db, limits: limits)
        if seriesAtATime, let m = try ev.evalSeries(expr) {
            return (.matrix(Self.series(m, start: start, step: step)), Stats(samplesFetched: ev.samplesFetched, steps: m.steps))
        }
        var index: [Labels: Int] = [:]
        var out: [Series] = []
        var steps = 0
        var t = start
        while t <= end {
            try ev.checkDeadline()
            steps += 1
            switch try ev.eval(expr, at: t) {
            case .scalar(let v):
                if out.isEmpty { out.append(Series(labels: Labels(sortedPairs: []))) }
                out[0].timestamps.append(t); out[0].values.append(v)
            case .vector(let samples):
                for s in samples {
                    if let k = index[s.labels] {
                        out[k].timestamps.append(t); out[k].values.append(s.value)
                    } else {
                        index[s.labels] = out.count
                        out.append(Series(labels: s.labels, timestamps: [t], values: [s.value]))
                    }
                }
            default:
                throw .badData("invalid expression type for range query, must be Scalar or instant Vector")
            }
            t += step
        }
        out.sort { Labels.promLess($0.labels, $1.labels) }
        return (.matrix(out), Stats(samplesFetched: ev.samplesFetched, steps: steps))
    }

    /// Whether `e` holds a topk or bottomk anywhere.
    static func selectsByRank(_ e: Expr) -> Bool {
        switch e {
        case .number, .string, .vector, .matrix: return false
        case .aggregate(let a): return a.op == .topk || a.op == .bottomk || selectsByRank(a.expr)
        case .call(_, let args): return args.contains(where: selectsByRank)
        case .binary(let b): return selectsByRank(b.lhs) || selectsByRank(b.rhs)
        case .unaryMinus(let x), .paren(let x): return selectsByRank(x)
        }
    }

    /// The series of a series-at-a-time result that have a point, sorted as Prometheus sorts.
    private static func series(_ m: StepMatrix, start: Int64, step: Int64) -> [Series] {
        var out: [Series] = []
        out.reserveCapacity(m.labels.count)
        m.present.withUnsafeBufferPointer { present in
            m.values.withUnsafeBufferPointer { values in
                for (i, labels) in m.labels.enumerated() {
                    let base = i * m.steps
                    var n = 0
                    for j in 0..<m.steps where present[base + j] { n += 1 }
                    guard n > 0 else { continue }
                    var s = Series(labels: labels)
                    s.timestamps.reserveCapacity(n)
                    s.values.reserveCapacity(n)
                    for j in 0..<m.steps where present[base + j] {
                        s.timestamps.append(start + Int64(j) * step)
                        s.values.append(values[base + j])
                    }
                    out.append(s)
                }
            }
        }
        out.sort { Labels.promLess($0.labels, $1.labels) }
        return out
    }

    /// Parses `match[]` selectors into TSDB matchers (for /series, /labels, /label/…/values).
    package static func matchers(_ selector: String) throws(PromQLError) -> [LabelMatcher] {
        try PromQLParser.parseSelector(selector).matchers
    }
}
