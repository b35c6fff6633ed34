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
/// - `stddev_over_time`, `stdvar_over_time`: two such sums, of the samples and of their
///   squares; the variance is `(Σx² − (Σx)²/n) / n`. Where that difference cancels to under
///   1e-5 of `Σx²` (a nearly constant window, where Prometheus' Welford steps give 0 or close
///   to it), or the window holds a non-finite value, it is computed sample by sample in
///   Prometheus' order; elsewhere the two agree to about 1e-10.
/// - `quantile_over_time` with a number: the window's values kept sorted (samples leaving
///   are removed and entering ones inserted by binary search, ``SortedWindow``), so a step
///   costs a few moves instead of a sort. The same sorted values, so the same result.
/// - every other function: sample by sample (``RangeFunctions/apply(_:_:scalars:)``).
///
/// ``begin(_:)`` starts a series; ``value(_:lo:hi:)`` then takes its windows in order
/// (`lo` and `hi` never decrease; if they do, the state restarts).
struct SlidingWindow {
    enum Kind { case rate, increase, changes, resets, count, present, last, max, min, sum, avg, stddev, stdvar, quantile, direct }

    let name: String
    let kind: Kind
    /// The function's number arguments (`quantile_over_time`'s quantile).
    let scalars: [Double]
    private var vs: [Double] = []
    /// What the sliding sum adds: the samples (`sum`/`avg`/`stddev`) or, at i, the
    /// counter-reset correction of the pair (i-1, i) (`rate`/`increase`).
    private var terms: [Double] = []
    /// `stddev`/`stdvar`: the samples' squares.
    private var squares: [Double] = []
    /// `rate`/`increase`: non-finite corrections before k.
    private var badTerms: [Int32] = []
    /// `rate`/`increase`/`resets`: resets among pairs (i-1, i) with i <= k; `changes`: changes.
    /// `sum`/`avg`/`stddev`: non-finite samples before k (`prefix`) and non-zero ones (`nonZero`).
    private var prefix: [Int32] = []
    private var nonZero: [Int32] = []
    private var deque: [Int] = []
    private var head = 0, tail = 0, pushed = 0
    private var window = WindowSum(), window2 = WindowSum()
    private var sorted = SortedWindow()
    private var lastLo = 0, lastHi = 0

    /// `steps`: the windows per series. With one (an instant query) nothing slides, and the
    /// prefix arrays ``begin(_:)`` builds would only be more work than the window itself, so
    /// every function is then evaluated directly, in Prometheus' order.
    init(_ name: String, steps: Int, scalars: [Double] = []) {
        self.name = name
        self.scalars = scalars
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
        case "stddev_over_time": kind = .stddev
        case "stdvar_over_time": kind = .stdvar
        case "quantile_over_time" where scalars.count == 1: kind = .quantile
        default: kind = .direct
        }
    }

    /// Starts a series (its values; timestamps come with each window). The prefix arrays are
    /// filled through buffer pointers in one pass: appending to them one element at a time
    /// (as this once did, when this was a class) paid a dynamic exclusivity check per append,
    /// most of a range `rate`'s time.
    mutating func begin(_ values: [Double]) {
        vs = values
        let n = values.count
        head = 0; tail = 0; pushed = 0
        window.reset(); window2.reset(); sorted.reset(); lastLo = 0; lastHi = 0
        switch kind {
        case .rate, .increase:
            Self.resize(&prefix, n); Self.resize(&terms, n); Self.resize(&badTerms, n + 1)
            values.withUnsafeBufferPointer { v in
                prefix.withUnsafeMutableBufferPointer { p in
                    terms.withUnsafeMutableBufferPointer { t in
                        badTerms.withUnsafeMutableBufferPointer { b in
                            var c: Int32 = 0, bad: Int32 = 0
                            b[0] = 0
                            // No sample is below -inf, so the first one is never a reset. The
                            // body has no branch: on a noisy gauge a drop is a coin toss, and
                            // a mispredicted branch per sample was most of this pass.
                            var prev = -Double.infinity
                            for i in 0..<n {
                                let x = v[i]
                                let drop = x < prev
                                let term = RangeFunctions.select(drop, prev, 0)
                                c &+= drop ? 1 : 0
                                bad &+= term.isFinite ? 0 : 1
                                p[i] = c; t[i] = term; b[i + 1] = bad
                                prev = x
                            }
                        }
                    }
                }
            }
        case .resets, .changes:
            Self.resize(&prefix, n)
            let changes = kind == .changes
            values.withUnsafeBufferPointer { v in
                prefix.withUnsafeMutableBufferPointer { p in
                    var c: Int32 = 0
                    for i in 0..<n {
                        if i > 0 {
                            let hit = changes ? (v[i] != v[i - 1] && !(v[i].isNaN && v[i - 1].isNaN)) : v[i] < v[i - 1]
                            if hit { c += 1 }
                        }
                        p[i] = c
                    }
                }
            }
        case .sum, .avg, .stddev, .stdvar:
            terms = values
            if kind == .stddev || kind == .stdvar { squares = values.map { $0 * $0 } }
            Self.resize(&prefix, n + 1); Self.resize(&nonZero, n + 1)
            values.withUnsafeBufferPointer { v in
                prefix.withUnsafeMutableBufferPointer { p in
                    nonZero.withUnsafeMutableBufferPointer { z in
                        var f: Int32 = 0, nz: Int32 = 0
                        p[0] = 0; z[0] = 0
                        for i in 0..<n {
                            let x = v[i]
                            if !x.isFinite { f += 1 }
                            if x != 0 { nz += 1 }
                            p[i + 1] = f; z[i + 1] = nz
                        }
                    }
                }
            }
        case .max, .min:
            if deque.count < n { deque = [Int](repeating: 0, count: n) }
        default: break
        }
    }

    /// Makes `a` hold exactly `n` elements (their values are about to be overwritten).
    private static func resize<T: Numeric>(_ a: inout [T], _ n: Int) {
        if a.count > n { a.removeLast(a.count - n) } else if a.count < n { a.append(contentsOf: repeatElement(0, count: n - a.count)) }
    }

    /// The function over samples `lo..<hi` of the series (`w` is the same window as slices).
    mutating func value(_ w: RangeFunctions.Window, lo: Int, hi: Int) -> Double? {
        if lo < lastLo || hi < lastHi { head = 0; tail = 0; pushed = lo; window.reset(); window2.reset(); sorted.reset() }
        lastLo = lo; lastHi = hi
        switch kind {
        case .count: return Double(hi - lo)
        case .present: return 1
        case .last: return vs[hi - 1]
        case .changes, .resets: return Double(prefix[hi - 1] - prefix[lo])
        case .rate, .increase:
            let isRate = kind == .rate
            guard prefix[hi - 1] != prefix[lo] else { return RangeFunctions.extrapolatedRate(w, isCounter: true, isRate: isRate, resets: false) }
            guard badTerms[hi] == badTerms[lo + 1] else { window.reset(); return RangeFunctions.apply(name, w, scalars: []) }
            let correction = terms.withUnsafeBufferPointer { window.sum($0, lo: lo + 1, hi: hi) }
            let delta = vs[hi - 1] - vs[lo], result = delta + correction
            if !result.isFinite || abs(result) < 1e-4 * (abs(delta) + window.magnitude) { window.reset(); return RangeFunctions.apply(name, w, scalars: []) }
            return RangeFunctions.extrapolatedRate(w, isCounter: true, isRate: isRate, correction: correction)
        case .max, .min: return extreme(lo: lo, hi: hi, max: kind == .max)
        case .sum, .avg:
            if prefix[hi] != prefix[lo] { window.reset(); return RangeFunctions.apply(name, w, scalars: []) }
            if nonZero[hi] == nonZero[lo] { return 0 }
            let s = terms.withUnsafeBufferPointer { window.sum($0, lo: lo, hi: hi) }
            if !s.isFinite || abs(s) < 1e-7 * window.magnitude { window.reset(); return RangeFunctions.apply(name, w, scalars: []) }
            return kind == .sum ? s : s / Double(hi - lo)
        case .stddev, .stdvar:
            if prefix[hi] != prefix[lo] { window.reset(); window2.reset(); return RangeFunctions.apply(name, w, scalars: []) }
            if nonZero[hi] == nonZero[lo] { return 0 }
            let s1 = terms.withUnsafeBufferPointer { window.sum($0, lo: lo, hi: hi) }
            let s2 = squares.withUnsafeBufferPointer { window2.sum($0, lo: lo, hi: hi) }
            let n = Double(hi - lo), m2 = s2 - s1 * s1 / n
            guard m2.isFinite, m2 > 1e-5 * s2 else { return RangeFunctions.apply(name, w, scalars: []) }
            return kind == .stdvar ? m2 / n : (m2 / n).squareRoot()
        case .quantile:
            return vs.withUnsafeBufferPointer { sorted.quantile(scalars[0], $0, lo: lo, hi: hi) }
        case .direct: return RangeFunctions.apply(name, w, scalars: scalars)
        }
    }

    private mutating func extreme(lo: Int, hi: Int, max: Bool) -> Double {
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
}

/// A compensated (Neumaier) sum over a window of an array that only moves forward: the terms
/// entering are added and those leaving subtracted, and it is rebuilt from scratch once as
/// many operations as the window holds have gone by, so its error stays that of summing about
/// two windows. `magnitude` is the sum of the terms' absolute values.
struct WindowSum {
    private var sum = 0.0, comp = 0.0
    private(set) var magnitude = 0.0
    private var lo = 0, hi = -1, ops = 0

    /// Forgets the window: the next sum starts from scratch.
    mutating func reset() { hi = -1 }

    /// The sum of `terms[lo..<hi]`.
    mutating func sum(_ terms: UnsafeBufferPointer<Double>, lo: Int, hi: Int) -> Double {
        // The state is worked on in locals: written through `self` on every term, the stores
        // cannot be kept in registers (`terms` might alias them, as far as the compiler knows).
        var acc = Accumulator(sum: sum, comp: comp, magnitude: magnitude)
        if self.hi < 0 || lo >= self.hi || lo < self.lo || hi < self.hi || ops > 2 * (hi - lo) + 32 {
            acc = Accumulator(sum: 0, comp: 0, magnitude: 0)
            ops = 0
            for i in lo..<hi { acc.add(terms[i]) }
        } else {
            for i in self.hi..<hi { acc.add(terms[i]) }
            for i in self.lo..<lo { acc.remove(terms[i]) }
            ops += (hi - self.hi) + (lo - self.lo)
        }
        sum = acc.sum; comp = acc.comp; magnitude = acc.magnitude
        self.lo = lo; self.hi = hi
        return sum + comp
    }

    private struct Accumulator {
        var sum: Double, comp: Double, magnitude: Double

        @inline(__always) mutating func add(_ x: Double) { (sum, comp) = RangeFunctions.kahanInc(x, sum, comp); magnitude += abs(x) }
        @inline(__always) mutating func remove(_ x: Double) { (sum, comp) = RangeFunctions.kahanInc(-x, sum, comp); magnitude -= abs(x) }
    }
}
