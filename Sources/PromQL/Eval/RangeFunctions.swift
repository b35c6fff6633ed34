import Foundation

/// Functions over a range vector, ported from Prometheus 2.42's `functions.go`. Each takes
/// one series' samples in the window [ref - range, ref] (milliseconds) and gives at most one value.
enum RangeFunctions {
    /// One window's samples, as views into the series' arrays (valid only while those are
    /// borrowed: a window is built and used inside the arrays' `withUnsafeBufferPointer`).
    /// Views, not `ArraySlice`s: a range query builds one per series and step, and two slices
    /// cost a retain and a release each time.
    struct Window {
        var ts: Slice<UnsafeBufferPointer<Int64>>
        var vs: Slice<UnsafeBufferPointer<Double>>
        /// Start and end of the selected range (ref - range, ref).
        var rangeStart: Int64
        var rangeEnd: Int64
        /// The selector's range in milliseconds.
        var range: Int64
        /// The evaluation time.
        var evalTime: Int64
    }

    /// `condition ? a : b` by a bit mask, for conditions that are data (a drop in a noisy
    /// gauge, which of two terms is larger): a branch on them mispredicts about every other
    /// sample, and the compiler turns a plain select on doubles back into a branch (seen in
    /// the disassembly of each loop that uses this).
    @inline(__always)
    static func select(_ condition: Bool, _ a: Double, _ b: Double) -> Double {
        let mask: UInt64 = 0 &- (condition ? 1 : 0)
        return Double(bitPattern: (a.bitPattern & mask) | (b.bitPattern & ~mask))
    }

    /// One compensated (Neumaier) step; both compensations are computed and one is kept.
    @inline(__always)
    static func kahanInc(_ inc: Double, _ sum: Double, _ c: Double) -> (Double, Double) {
        let t = sum + inc
        return (t, c + select(abs(sum) >= abs(inc), (sum - t) + inc, (inc - t) + sum))
    }

    static func apply(_ name: String, _ w: Window, scalars: [Double]) -> Double? {
        let vs = w.vs, ts = w.ts
        switch name {
        case "rate": return extrapolatedRate(w, isCounter: true, isRate: true)
        case "increase": return extrapolatedRate(w, isCounter: true, isRate: false)
        case "delta": return extrapolatedRate(w, isCounter: false, isRate: false)
        case "irate", "idelta":
            guard vs.count >= 2 else { return nil }
            let last = vs[vs.endIndex - 1], prev = vs[vs.endIndex - 2]
            let isRate = name == "irate"
            var result = isRate && last < prev ? last : last - prev
            let interval = ts[ts.endIndex - 1] - ts[ts.endIndex - 2]
            guard interval != 0 else { return nil }
            if isRate { result /= Double(interval) / 1000 }
            return result
        case "deriv":
            guard vs.count >= 2 else { return nil }
            return linearRegression(w, interceptTime: ts[ts.startIndex]).slope
        case "predict_linear":
            guard vs.count >= 2 else { return nil }
            let r = linearRegression(w, interceptTime: w.evalTime)
            return r.slope * scalars[0] + r.intercept
        case "changes", "resets":
            var n = 0
            var prev = vs[vs.startIndex]
            for v in vs.dropFirst() {
                if name == "changes" {
                    if v != prev && !(v.isNaN && prev.isNaN) { n += 1 }
                } else if v < prev { n += 1 }
                prev = v
            }
            return Double(n)
        case "avg_over_time":
            var mean = 0.0, count = 0.0, c = 0.0
            for v in vs {
                count += 1
                if mean.isInfinite {
                    if v.isInfinite && (mean > 0) == (v > 0) { continue }
                    if !v.isInfinite && !v.isNaN { continue }
                }
                (mean, c) = kahanInc(v / count - mean / count, mean, c)
            }
            return mean.isInfinite ? mean : mean + c
        case "sum_over_time":
            var sum = 0.0, c = 0.0
            for v in vs { (sum, c) = kahanInc(v, sum, c) }
            return sum.isInfinite ? sum : sum + c
        case "count_over_time": return Double(vs.count)
        case "present_over_time": return 1
        case "last_over_time": return vs[vs.endIndex - 1]
        case "max_over_time":
            var m = vs[vs.startIndex]
            for v in vs where v > m || m.isNaN { m = v }
            return m
        case "min_over_time":
            var m = vs[vs.startIndex]
            for v in vs where v < m || m.isNaN { m = v }
            return m
        case "stddev_over_time", "stdvar_over_time":
            var count = 0.0, mean = 0.0, cMean = 0.0, aux = 0.0, cAux = 0.0
            for v in vs {
                count += 1
                let delta = v - (mean + cMean)
                (mean, cMean) = kahanInc(delta / count, mean, cMean)
                (aux, cAux) = kahanInc(delta * (v - (mean + cMean)), aux, cAux)
            }
            let variance = (aux + cAux) / count
            return name == "stdvar_over_time" ? variance : variance.squareRoot()
        case "quantile_over_time": return Quantile.quantile(scalars[0], Array(vs))
        case "holt_winters": return holtWinters(vs, sf: scalars[0], tf: scalars[1])
        default: return nil
        }
    }

    /// `resets: false` says the caller knows no sample in the window is below its predecessor,
    /// so the counter-reset loop (which would add nothing) is skipped; a `correction` is the
    /// sum that loop would add, computed by the caller (``SlidingWindow``).
    static func extrapolatedRate(_ w: Window, isCounter: Bool, isRate: Bool, resets: Bool = true, correction: Double? = nil) -> Double? {
        let vs = w.vs, ts = w.ts
        guard vs.count >= 2 else { return nil }
        let first = vs[vs.startIndex], last = vs[vs.endIndex - 1]
        let t0 = ts[ts.startIndex], t1 = ts[ts.endIndex - 1]
        var result = last - first
        if isCounter, let correction {
            result += correction
        } else if isCounter && resets {
            // Every sample adds: the value before a drop, else -0 (the identity, also of a -0
            // result), so the loop has no branch.
            var lastValue = 0.0
            for v in vs {
                result += select(v < lastValue, lastValue, -0.0)
                lastValue = v
            }
        }
        var durationToStart = Double(t0 - w.rangeStart) / 1000
        let durationToEnd = Double(w.rangeEnd - t1) / 1000
        let sampledInterval = Double(t1 - t0) / 1000
        let averageBetween = sampledInterval / Double(vs.count - 1)
        if isCounter && result > 0 && first >= 0 {
            let durationToZero = sampledInterval * (first / result)
            if durationToZero < durationToStart { durationToStart = durationToZero }
        }
        let threshold = averageBetween * 1.1
        var extrapolateTo = sampledInterval
        extrapolateTo += durationToStart < threshold ? durationToStart : averageBetween / 2
        extrapolateTo += durationToEnd < threshold ? durationToEnd : averageBetween / 2
        var factor = extrapolateTo / sampledInterval
        if isRate { factor /= Double(w.range) / 1000 }
        return result * factor
    }

    static func linearRegression(_ w: Window, interceptTime: Int64) -> (slope: Double, intercept: Double) {
        var n = 0.0, sumX = 0.0, cX = 0.0, sumY = 0.0, cY = 0.0, sumXY = 0.0, cXY = 0.0, sumX2 = 0.0, cX2 = 0.0
        let initY = w.vs[w.vs.startIndex]
        var constY = true
        for (k, i) in w.ts.indices.enumerated() {
            let v = w.vs[w.vs.startIndex + k]
            if constY && k > 0 && v != initY { constY = false }
            n += 1
            let x = Double(w.ts[i] - interceptTime) / 1e3
            (sumX, cX) = kahanInc(x, sumX, cX)
            (sumY, cY) = kahanInc(v, sumY, cY)
            (sumXY, cXY) = kahanInc(x * v, sumXY, cXY)
            (sumX2, cX2) = kahanInc(x * x, sumX2, cX2)
        }
        if constY {
            if initY.isInfinite { return (.nan, .nan) }
            return (0, initY)
        }
        sumX += cX; sumY += cY; sumXY += cXY; sumX2 += cX2
        let covXY = sumXY - sumX * sumY / n
        let varX = sumX2 - sumX * sumX / n
        let slope = covXY / varX
        return (slope, sumY / n - slope * sumX / n)
    }

    static func holtWinters<C: Collection<Double>>(_ vs: C, sf: Double, tf: Double) -> Double? {
        let values = Array(vs)
        guard values.count >= 2 else { return nil }
        var s0 = 0.0, s1 = values[0], b = values[1] - values[0]
        for i in 1..<values.count {
            let x = sf * values[i]
            if i - 1 != 0 { b = tf * (s1 - s0) + (1 - tf) * b }
            let y = (1 - sf) * (s1 + b)
            (s0, s1) = (s1, x + y)
        }
        return s1
    }
}
