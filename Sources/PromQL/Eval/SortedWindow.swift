/// The values of a window that only moves forward over a series, kept sorted in Prometheus'
/// quantile order (NaN first, then ascending), for `quantile_over_time` over a range query:
/// a step removes the samples that left (found by binary search) and inserts those that
/// entered, instead of sorting the window again. Sorting a multiset gives one sequence
/// whatever the method, so the quantile equals ``Quantile/quantile(_:_:)``'s (up to where
/// -0 and +0 sit among equal values, which no unstable sort fixes either: a leaving value
/// removes the element with its very bits, so the window's multiset stays exact).
struct SortedWindow {
    private var sorted: [Double] = []
    /// The samples `lo..<hi` of the series are in `sorted`; `hi < 0`: nothing yet.
    private var lo = 0, hi = -1

    mutating func reset() { hi = -1 }

    /// `quantile(q)` of samples `lo..<hi` of `v` (not empty).
    mutating func quantile(_ q: Double, _ v: UnsafeBufferPointer<Double>, lo: Int, hi: Int) -> Double {
        // Sliding pays while the windows overlap by more than they move; else sort afresh.
        if self.hi < 0 || lo < self.lo || hi < self.hi || lo >= self.hi || (lo - self.lo) + (hi - self.hi) > (hi - lo) {
            sorted.removeAll(keepingCapacity: true)
            sorted.append(contentsOf: v[lo..<hi])
            sorted.sort(by: Self.less)
        } else {
            for i in self.lo..<lo { remove(v[i]) }
            for i in self.hi..<hi { insert(v[i]) }
        }
        self.lo = lo; self.hi = hi
        return Quantile.quantile(q, sorted: sorted)
    }

    @inline(__always) static func less(_ a: Double, _ b: Double) -> Bool { (a.isNaN && !b.isNaN) || a < b }

    /// The first index whose element is not less than `x`.
    private func lowerBound(_ x: Double) -> Int {
        var a = 0, b = sorted.count
        while a < b { let m = (a + b) >> 1; if Self.less(sorted[m], x) { a = m + 1 } else { b = m } }
        return a
    }

    private mutating func insert(_ x: Double) {
        // After the equal ones, as a stable sort of the window in time order would place it.
        var a = lowerBound(x), b = sorted.count
        while a < b { let m = (a + b) >> 1; if Self.less(x, sorted[m]) { b = m } else { a = m + 1 } }
        sorted.insert(x, at: a)
    }

    private mutating func remove(_ x: Double) {
        var i = lowerBound(x)
        let first = i
        while i < sorted.count && !Self.less(x, sorted[i]) && sorted[i].bitPattern != x.bitPattern { i += 1 }
        if i == sorted.count || Self.less(x, sorted[i]) { i = first }
        sorted.remove(at: i)
    }
}
