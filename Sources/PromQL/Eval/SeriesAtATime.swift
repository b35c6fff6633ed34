import Dispatch
import Foundation
import TSDB

/// Range-query evaluation series by series instead of step by step, for the shapes dashboards
/// send most: selectors, range functions over a range selector, `sum avg min max count group`
/// by/without, and arithmetic or comparisons with a number or between two such vectors matched
/// one-to-one. Each series' labels (name dropping, grouping signature, matching) are worked out
/// once per query rather than once per step, and windows slide over the fetched samples with two
/// moving indices instead of two binary searches per step.
///
/// The results equal the step evaluator's: every step visits the series in the same order and
/// folds them with the same arithmetic. A shape outside this set, or one whose labels could
/// collide at some step (which Prometheus reports as an error at that step), returns nil and
/// the query runs through ``Evaluator/eval(_:at:)``.
struct StepMatrix {
    var labels: [Labels]
    /// Series-major: the value of series `i` at step `k` is `values[i * steps + k]`.
    var values: [Double]
    var present: [Bool]
    let steps: Int

    init(steps: Int) {
        self.steps = steps
        labels = []
        values = []
        present = []
    }

    /// One row per label set, every step absent.
    init(steps: Int, labels: [Labels]) {
        self.steps = steps
        self.labels = labels
        values = [Double](repeating: 0, count: labels.count * steps)
        present = [Bool](repeating: false, count: labels.count * steps)
    }

    mutating func appendSeries(_ l: Labels) -> Int {
        labels.append(l)
        values.append(contentsOf: repeatElement(0, count: steps))
        present.append(contentsOf: repeatElement(false, count: steps))
        return labels.count - 1
    }

    /// Fills every series' row on the cores: series are independent, so worker w takes
    /// series w, w + workers, …, writing only their rows (`row` gets the series index and
    /// its row's values and presence), with a state of its own from `makeState`. False when
    /// the deadline passed first (some rows are then unwritten).
    mutating func fillRows<State>(deadline: ContinuousClock.Instant?, makeState: @Sendable () -> State,
                                  _ row: @Sendable (inout State, Int, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Bool>) -> Void) -> Bool {
        let count = labels.count, steps = self.steps
        let workers = count >= 16 ? min(ProcessInfo.processInfo.activeProcessorCount, 8) : 1
        var timedOut = [Bool](repeating: false, count: workers)
        values.withUnsafeMutableBufferPointer { values in
            present.withUnsafeMutableBufferPointer { present in
                timedOut.withUnsafeMutableBufferPointer { late in
                    nonisolated(unsafe) let values = values.baseAddress!, present = present.baseAddress!, late = late.baseAddress!
                    DispatchQueue.concurrentPerform(iterations: workers) { w in
                        var state = makeState()
                        var n = w
                        while n < count {
                            if let deadline, ContinuousClock.now > deadline { late[w] = true; return }
                            row(&state, n, values + n * steps, present + n * steps)
                            n += workers
                        }
                    }
                }
            }
        }
        return !timedOut.contains(true)
    }
}

extension Evaluator {
    static let seriesRangeFunctions: Set<String> = [
        "rate", "increase", "delta", "irate", "idelta", "deriv", "changes", "resets",
        "avg_over_time", "sum_over_time", "count_over_time", "min_over_time", "max_over_time",
        "stddev_over_time", "stdvar_over_time", "last_over_time", "present_over_time",
    ]

    /// The whole range query's values, or nil when `e` is not a shape this path handles.
    func evalSeries(_ e: Expr) throws(PromQLError) -> StepMatrix? {
        let steps = Int((end - start) / step) + 1
        switch e {
        case .paren(let x): return try evalSeries(x)
        case .vector(let vs): return try selectSeries(vs, steps: steps)
        case .call(let f, let args):
            // quantile_over_time with a number for its quantile (any other scalar varies by step).
            if f.name == "quantile_over_time", args.count == 2, case .number(let q) = args[0].unwrapped,
               case .matrix(let vs, let range) = args[1].unwrapped {
                return try rangeFunctionSeries(f.name, vs, range, steps: steps, scalars: [q])
            }
            guard args.count == 1, Self.seriesRangeFunctions.contains(f.name),
                  case .matrix(let vs, let range) = args[0].unwrapped else { return nil }
            return try rangeFunctionSeries(f.name, vs, range, steps: steps)
        case .aggregate(let a):
            if a.op == .topk || a.op == .bottomk { return try topkSeries(a, steps: steps) }
            return try aggregateSeries(a, steps: steps)
        case .binary(let b): return try binarySeries(b, steps: steps)
        default: return nil
        }
    }

    private func selectSeries(_ vs: VectorSelector, steps: Int) throws(PromQLError) -> StepMatrix {
        let series = data[vs.id] ?? []
        var m = StepMatrix(steps: steps, labels: series.map(\.labels))
        let refs = (0..<steps).map { j in refTime(vs, start + Int64(j) * step) }
        let lookback = self.lookback
        let finished = m.fillRows(deadline: deadline, makeState: {}) { _, n, values, present in
            Self.lookBack(series[n], refs: refs, lookback: lookback, values: values, present: present)
        }
        if !finished { try checkDeadline() }
        return m
    }

    /// One series' value at each step: its latest sample at or before the step's time, within
    /// the lookback, unless that sample is a staleness marker.
    private static func lookBack(_ s: Series, refs: [Int64], lookback: Int64,
                                 values: UnsafeMutablePointer<Double>, present: UnsafeMutablePointer<Bool>) {
        s.timestamps.withUnsafeBufferPointer { ts in
            s.values.withUnsafeBufferPointer { vs in
                var k = 0, advance = 0
                for (j, ref) in refs.enumerated() {
                    if k > 0 && ts[k - 1] > ref { k = 0 }  // an @ before: start over (ref is constant then)
                    // k becomes the count of samples at or before ref. Scrapes are regular, so
                    // the last step's advance usually lands on it: two probes instead of a
                    // walk over every sample in between.
                    let guess = k + advance
                    if advance > 0, guess <= ts.count, ts[guess - 1] <= ref, guess == ts.count || ts[guess] > ref {
                        k = guess
                    } else {
                        let from = k
                        while k < ts.count && ts[k] <= ref { k += 1 }
                        advance = k - from
                    }
                    if k > 0 && ts[k - 1] >= ref - lookback && !isStale(vs[k - 1]) {
                        values[j] = vs[k - 1]
                        present[j] = true
                    }
                }
            }
        }
    }

    private func rangeFunctionSeries(_ name: String, _ vs: VectorSelector, _ range: Int64, steps: Int, scalars: [Double] = []) throws(PromQLError) -> StepMatrix? {
        let series = data[vs.id] ?? []
        let keepName = name == "last_over_time"
        let labels = series.map { keepName ? $0.labels : $0.labels.droppingMetricName }
        // Dropping the name can make two series one label set; Prometheus fails at the steps
        // where both have a value. Leave that to the step evaluator.
        if !keepName && !Self.namesOneMetric(vs) && Set(labels).count != labels.count { return nil }
        var m = StepMatrix(steps: steps, labels: labels)
        // Each step's evaluation time and the time its window ends at.
        let times: [(eval: Int64, ref: Int64)] = (0..<steps).map { j in
            let t = start + Int64(j) * step
            return (t, refTime(vs, t))
        }
        let finished = m.fillRows(deadline: deadline, makeState: { SlidingWindow(name, steps: steps, scalars: scalars) }) { sliding, n, values, present in
            Self.slide(series[n], range: range, times: times, &sliding, values: values, present: present)
        }
        if !finished { try checkDeadline() }
        return m
    }

    /// One series' windows, step by step: two indices that only move forward (or start over
    /// where an `@` modifier holds the window still and it went back).
    private static func slide(_ s: Series, range: Int64, times: [(eval: Int64, ref: Int64)], _ sliding: inout SlidingWindow,
                              values: UnsafeMutablePointer<Double>, present: UnsafeMutablePointer<Bool>) {
        var lo = 0, hi = 0
        sliding.begin(s.values)
        s.timestamps.withUnsafeBufferPointer { ts in
            s.values.withUnsafeBufferPointer { vs in
                for (j, time) in times.enumerated() {
                    let ref = time.ref
                    if hi > 0 && ts[hi - 1] > ref { lo = 0; hi = 0 }
                    while lo < ts.count && ts[lo] < ref - range { lo += 1 }
                    if hi < lo { hi = lo }
                    while hi < ts.count && ts[hi] <= ref { hi += 1 }
                    guard lo < hi else { continue }
                    let w = RangeFunctions.Window(ts: ts[lo..<hi], vs: vs[lo..<hi], rangeStart: ref - range,
                                                  rangeEnd: ref, range: range, evalTime: time.eval)
                    if let v = sliding.value(w, lo: lo, hi: hi) {
                        values[j] = v
                        present[j] = true
                    }
                }
            }
        }
    }

    /// True when a selector can only match one metric name (so dropping it keeps sets apart).
    static func namesOneMetric(_ vs: VectorSelector) -> Bool {
        vs.name != nil || vs.matchers.contains { $0.name == Labels.metricName && $0.op == .equal }
    }

    private func aggregateSeries(_ a: AggregateExpr, steps: Int) throws(PromQLError) -> StepMatrix? {
        switch a.op {
        case .sum, .avg, .min, .max, .count, .group: break
        default: return nil
        }
        guard a.param == nil, let inner = try evalSeries(a.expr) else { return nil }
        var groups: [[UInt8]: Int] = [:]
        var groupLabels: [Labels] = []
        var member: [Int] = []
        member.reserveCapacity(inner.labels.count)
        for l in inner.labels {
            let key = a.without ? l.signature(on: false, a.grouping) : (a.grouping.isEmpty ? [] : l.signature(on: true, a.grouping))
            if let g = groups[key] { member.append(g); continue }
            let labels: Labels
            if a.without { labels = l.removing(a.grouping + [Labels.metricName]) }
            else if !a.grouping.isEmpty { labels = l.keepingNames(a.grouping) }
            else { labels = Labels(sortedPairs: []) }
            groups[key] = groupLabels.count
            member.append(groupLabels.count)
            groupLabels.append(labels)
        }
        // The same fold as Evaluator.aggregate, step by step in the inner vector's order;
        // group g's state at step j is at g * steps + j.
        let cells = groupLabels.count * steps
        var value = [Double](repeating: 0, count: cells), mean = [Double](repeating: 0, count: cells)
        var count = [Int](repeating: 0, count: cells)
        let op = a.op
        var timedOut = false
        value.withUnsafeMutableBufferPointer { value in
            mean.withUnsafeMutableBufferPointer { mean in
                count.withUnsafeMutableBufferPointer { count in
                    for (i, g) in member.enumerated() {
                        if let deadline, ContinuousClock.now > deadline { timedOut = true; return }
                        let base = i * steps, gb = g * steps
                        for j in 0..<steps where inner.present[base + j] {
                            let v = inner.values[base + j], c = gb + j
                            count[c] += 1
                            if count[c] == 1 {
                                value[c] = op == .group ? 1 : v
                                mean[c] = v
                                continue
                            }
                            switch op {
                            case .sum: value[c] += v
                            case .avg:
                                let n = Double(count[c])
                                if mean[c].isInfinite {
                                    if v.isInfinite && (mean[c] > 0) == (v > 0) { break }
                                    if !v.isInfinite && !v.isNaN { break }
                                }
                                mean[c] += v / n - mean[c] / n
                            case .max: if value[c] < v || value[c].isNaN { value[c] = v }
                            case .min: if value[c] > v || value[c].isNaN { value[c] = v }
                            default: break
                            }
                        }
                    }
                }
            }
        }
        if timedOut { try checkDeadline() }
        var m = StepMatrix(steps: steps)
        for (g, labels) in groupLabels.enumerated() {
            let i = m.appendSeries(labels)
            let base = i * steps, gb = g * steps
            for j in 0..<steps where count[gb + j] > 0 {
                m.present[base + j] = true
                switch op {
                case .avg: m.values[base + j] = mean[gb + j]
                case .count: m.values[base + j] = Double(count[gb + j])
                default: m.values[base + j] = value[gb + j]
                }
            }
        }
        return m
    }

    private func binarySeries(_ b: BinaryExpr, steps: Int) throws(PromQLError) -> StepMatrix? {
        guard !b.op.isSetOperator else { return nil }
        if case .number(let x) = b.rhs.unwrapped { return try vectorNumberSeries(b, b.lhs, x, swap: false, steps: steps) }
        if case .number(let x) = b.lhs.unwrapped { return try vectorNumberSeries(b, b.rhs, x, swap: true, steps: steps) }
        let match = b.matching ?? VectorMatching(card: .oneToOne)
        guard match.card == .oneToOne, match.include.isEmpty,
              let l = try evalSeries(b.lhs), let r = try evalSeries(b.rhs) else { return nil }
        // Unique signatures on both sides: then each left series has at most one partner at
        // every step and no step can fail with a matching error.
        var right: [[UInt8]: Int] = [:]
        for (i, labels) in r.labels.enumerated() {
            if right.updateValue(i, forKey: labels.signature(on: match.on, match.labels)) != nil { return nil }
        }
        var seen = Set<[UInt8]>()
        var m = StepMatrix(steps: steps)
        for (i, labels) in l.labels.enumerated() {
            let sig = labels.signature(on: match.on, match.labels)
            guard seen.insert(sig).inserted else { return nil }
            guard let k = right[sig] else { continue }
            var metric = Self.resultMetric(labels, r.labels[k], b.op, match)
            if b.returnBool { metric = metric.droppingMetricName }
            let o = m.appendSeries(metric)
            let lb = i * steps, rb = k * steps, ob = o * steps
            for j in 0..<steps where l.present[lb + j] && r.present[rb + j] {
                var (value, keep) = Self.elementOp(b.op, l.values[lb + j], r.values[rb + j])
                if b.returnBool { value = keep ? 1 : 0 } else if !keep { continue }
                m.values[ob + j] = value
                m.present[ob + j] = true
            }
        }
        return m
    }

    private func vectorNumberSeries(_ b: BinaryExpr, _ vectorSide: Expr, _ x: Double, swap: Bool, steps: Int) throws(PromQLError) -> StepMatrix? {
        guard vectorSide.type == .vector, var v = try evalSeries(vectorSide) else { return nil }
        let drops = b.op.dropsMetricName || b.returnBool
        if drops {
            let dropped = v.labels.map(\.droppingMetricName)
            if Set(dropped).count != dropped.count { return nil }
            v.labels = dropped
        }
        for i in 0..<v.labels.count {
            let base = i * steps
            for j in 0..<steps where v.present[base + j] {
                let e = v.values[base + j]
                let (lv, rv) = swap ? (x, e) : (e, x)
                var (value, keep) = Self.elementOp(b.op, lv, rv)
                if b.op.isComparison && swap { value = rv }
                if b.returnBool { value = keep ? 1 : 0; keep = true }
                if keep { v.values[base + j] = value } else { v.present[base + j] = false }
            }
        }
        return v
    }
}
