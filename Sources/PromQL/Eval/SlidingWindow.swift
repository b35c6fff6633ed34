/// One range function evaluated over the windows of a range query, which only move forward:
/// each step costs O(1) amortised instead of O(samples in the window).
///
/// - `count_over_time`, `present_over_time`, `last_over_time`: from the window's bounds.
/// - `changes`, `resets`: prefix counts over the series. Exact.
/// - `rate`, `increase`: a window without a counter reset skips Prometheus' reset loop, which
///   would add nothing (exact); one with resets adds their corrections (the value before each
///   drop) from a sliding compensated sum as below, or runs the loop where that sum is not
///   finite or where `last - first + corrections` cancels to under 1e-4 of its terms' size
///   (both orders round that last addition alike, so the results agree to about 1e-12).
/// - `max_over_time`, `min_over_time`: a monotonic deque of the non-NaN samples, holding the
///   earliest of equal values in front, which is the sample Prometheus' scan keeps. Exact.
/// - `sum_over_time`, `avg_over_time`: a compensated (Neumaier) sum that adds the samples
///   entering and subtracts those leaving, rebuilt from scratch once as many operations as
///   the window holds have gone by, so its error stays that of summing about two windows.
///   The mean is that sum over the count, within a few ulps of Prometheus' incremental mean
///   (not to the bit). A window holding a non-finite value, or whose sum cancels to under
///   1e-7 of the sum of magnitudes, is computed sample by sample in Prometheus' order.
/// - every other function: sample by sample (``RangeFunctions/apply(_:_:scalars:)``).
///
/// ``begin(_:)`` starts a series; ``value(_:lo:hi:)`` then takes its windows in order
/// (`lo` and `hi` never decrease; if they do, the state restarts).
final class SlidingWindow {
    enum Kind { case rate, increase, changes, resets, count, present, last, max, min, sum, avg, direct }

    let name: String
    let kind: Kind
    private var vs: [Double] = []
    /// What the sliding sum adds: the samples (`sum`/`avg`) or, at i, the counter-reset
    /// correction of the pair (i-1, i) (`rate`/`increase`).
    private var terms: [Double] = []
    /// `rate`/`increase`: non-finite corrections before k.
    private var badTerms: [Int32] = []
    /// `rate`/`increase`/`resets`: resets among pairs (i-1, i) with i <= k; `changes`: changes.
    /// `sum`/`avg`: non-finite samples before k (`prefix`) and non-zero ones (`nonZero`).
    private var prefix: [Int32] = []
    private var nonZero: [Int32] = []
    private var deque: [Int] = []
    private var head = 0, tail = 0, pushed = 0
    private var sum = 0.0, comp = 0.0, magnitude = 0.0
    private var sumLo = 0, sumHi = -1, ops = 0
    private var lastLo = 0, lastHi = 0

    /// `steps`: the windows per series. With one (an instant query) nothing slides, and the
    /// prefix arrays ``begin(_:)`` builds would only be more work than the window itself, so
    /// every function is then evaluated directly, in Prometheus' order.
    init(_ name: String, steps: Int) {
        self.name = name
        switch steps > 1 ? name : "" {
        case "rate": kind = .rate
        case "increase": kind = .increase
        case "changes": kind = .changes
        case "resets": kind = .resets
        case "count_over_time": kind = .count
        case "present_over_time": kind = .present
        case "last_over_time": kind = .last
        case "max_over_time": kind = .max
        case "min_over_time": kind = .min
        case "sum_over_time": kind = .sum
        case "avg_over_time": kind = .avg
        default: kind = .direct
        }
    }

    /// Starts a series (its values; timestamps come with each window).
    func begin(_ values: [Double]) {
        vs = values
        let n = values.count
        head = 0; tail = 0; pushed = 0
        sumHi = -1; lastLo = 0; lastHi = 0
        switch kind {
        case .rate, .increase:
            prefix.removeAll(keepingCapacity: true)
            terms.removeAll(keepingCapacity: true)
            badTerms.removeAll(keepingCapacity: true)
            prefix.reserveCapacity(n); terms.reserveCapacity(n); badTerms.reserveCapacity(n + 1)
            values.withUnsafeBufferPointer { v in
                var c: Int32 = 0, bad: Int32 = 0
                badTerms.append(0)
                for i in 0..<n {
                    var term = 0.0
                    if i > 0 && v[i] < v[i - 1] { c += 1; term = v[i - 1] }
                    if !term.isFinite { bad += 1 }
                    prefix.append(c); terms.append(term); badTerms.append(bad)
                }
            }
        case .resets, .changes:
            prefix.removeAll(keepingCapacity: true)
            prefix.reserveCapacity(n)
            values.withUnsafeBufferPointer { v in
                var c: Int32 = 0
                for i in 0..<n {
                    if i > 0 {
                        let hit = kind == .changes ? (v[i] != v[i - 1] && !(v[i].isNaN && v[i - 1].isNaN)) : v[i] < v[i - 1]
                        if hit { c += 1 }
                    }
                    prefix.append(c)
                }
            }
        case .sum, .avg:
            terms = values
            prefix.removeAll(keepingCapacity: true)
            nonZero.removeAll(keepingCapacity: true)
            prefix.reserveCapacity(n + 1)
            nonZero.reserveCapacity(n + 1)
            values.withUnsafeBufferPointer { v in
                var f: Int32 = 0, z: Int32 = 0
                prefix.append(0); nonZero.append(0)
                for x in v {
                    if !x.isFinite { f += 1 }
                    if x != 0 { z += 1 }
                    prefix.append(f); nonZero.append(z)
                }
            }
        case .max, .min:
            if deque.count < n { deque = [Int](repeating: 0, count: n) }
        default: break
        }
    }

    /// The function over samples `lo..<hi` of the series (`w` is the same window as slices).
    func value(_ w: RangeFunctions.Window, lo: Int, hi: Int) -> Double? {
        if lo < lastLo || hi < lastHi { head = 0; tail = 0; pushed = lo; sumHi = -1 }
        lastLo = lo; lastHi = hi
        switch kind {
        case .count: return Double(hi - lo)
        case .present: return 1
        case .last: return vs[hi - 1]
        case .changes, .resets: return Double(prefix[hi - 1] - prefix[lo])
        case .rate, .increase:
            let isRate = kind == .rate
            guard prefix[hi - 1] != prefix[lo] else { return RangeFunctions.extrapolatedRate(w, isCounter: true, isRate: isRate, resets: false) }
            guard badTerms[hi] == badTerms[lo + 1] else { sumHi = -1; return RangeFunctions.apply(name, w, scalars: []) }
            let correction = slidingSum(lo: lo + 1, hi: hi)
            let delta = vs[hi - 1] - vs[lo], result = delta + correction
            if !result.isFinite || abs(result) < 1e-4 * (abs(delta) + magnitude) { sumHi = -1; return RangeFunctions.apply(name, w, scalars: []) }
            return RangeFunctions.extrapolatedRate(w, isCounter: true, isRate: isRate, correction: correction)
        case .max, .min: return extreme(lo: lo, hi: hi, max: kind == .max)
        case .sum, .avg:
            if prefix[hi] != prefix[lo] { sumHi = -1; return RangeFunctions.apply(name, w, scalars: []) }
            if nonZero[hi] == nonZero[lo] { return 0 }
            let s = slidingSum(lo: lo, hi: hi)
            if !s.isFinite || abs(s) < 1e-7 * magnitude { sumHi = -1; return RangeFunctions.apply(name, w, scalars: []) }
            return kind == .sum ? s : s / Double(hi - lo)
        case .direct: return RangeFunctions.apply(name, w, scalars: [])
        }
    }

    private func extreme(lo: Int, hi: Int, max: Bool) -> Double {
        if pushed < lo { head = 0; tail = 0; pushed = lo }
        return vs.withUnsafeBufferPointer { v in
            deque.withUnsafeMutableBufferPointer { d in
                while pushed < hi {
                    let x = v[pushed]
                    if !x.isNaN {
                        // Strictly worse values leave; an equal earlier one stays in front, as
                        // Prometheus' `v > m` keeps the first of equal values.
                        while tail > head && (max ? v[d[tail - 1]] < x : v[d[tail - 1]] > x) { tail -= 1 }
                        d[tail] = pushed
                        tail += 1
                    }
                    pushed += 1
                }
                while head < tail && d[head] < lo { head += 1 }
                // Only NaNs in the window: Prometheus' scan ends on the last of them.
                return head < tail ? v[d[head]] : v[hi - 1]
            }
        }
    }

    /// The sum of `terms[lo..<hi]`.
    private func slidingSum(lo: Int, hi: Int) -> Double {
        terms.withUnsafeBufferPointer { v in
            if sumHi < 0 || lo >= sumHi || lo < sumLo || hi < sumHi || ops > 2 * (hi - lo) + 32 {
                sum = 0; comp = 0; magnitude = 0; ops = 0
                for i in lo..<hi { add(v[i]); magnitude += abs(v[i]) }
            } else {
                for i in sumHi..<hi { add(v[i]); magnitude += abs(v[i]) }
                for i in sumLo..<lo { add(-v[i]); magnitude -= abs(v[i]) }
                ops += (hi - sumHi) + (lo - sumLo)
            }
            sumLo = lo; sumHi = hi
            return sum + comp
        }
    }

    @inline(__always) private func add(_ x: Double) {
        let t = sum + x
        if abs(sum) >= abs(x) { comp += (sum - t) + x } else { comp += (x - t) + sum }
        sum = t
    }
}
