/// The running aggregate of one bucket: enough for every ``Aggregation``.
struct Accumulator: Sendable {
    var count = 0
    var sum = 0.0
    var min = Double.infinity
    var max = -Double.infinity
    var firstTime = Int64.max
    var first = 0.0
    var lastTime = Int64.min
    var last = 0.0
    /// Kept only for percentiles.
    var values: [Double] = []

    /// Adds the samples `range` of ascending, unique timestamps: the first and last of the
    /// run are its ends, so the loop only sums and bounds the values, in four independent
    /// lanes (a run of thousands of samples is bound by the latency of one add chain
    /// otherwise). NaN counts in the sum and never in min or max, as sample by sample.
    @inline(__always)
    mutating func add(_ ts: UnsafeBufferPointer<Int64>, _ vs: UnsafeBufferPointer<Double>, _ range: Range<Int>, keepValues: Bool) {
        guard let firstIndex = range.first else { return }
        let lastIndex = range.upperBound - 1
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var lo0 = min, lo1 = min, lo2 = min, lo3 = min
        var hi0 = max, hi1 = max, hi2 = max, hi3 = max
        var i = range.lowerBound
        while i &+ 4 <= range.upperBound {
            let a = vs[i], b = vs[i &+ 1], c = vs[i &+ 2], d = vs[i &+ 3]
            s0 += a; s1 += b; s2 += c; s3 += d
            if a < lo0 { lo0 = a }; if b < lo1 { lo1 = b }; if c < lo2 { lo2 = c }; if d < lo3 { lo3 = d }
            if a > hi0 { hi0 = a }; if b > hi1 { hi1 = b }; if c > hi2 { hi2 = c }; if d > hi3 { hi3 = d }
            i &+= 4
        }
        while i < range.upperBound {
            let a = vs[i]
            s0 += a
            if a < lo0 { lo0 = a }
            if a > hi0 { hi0 = a }
            i &+= 1
        }
        count += range.count
        sum += (s0 + s1) + (s2 + s3)
        if lo1 < lo0 { lo0 = lo1 }; if lo2 < lo0 { lo0 = lo2 }; if lo3 < lo0 { lo0 = lo3 }
        if hi1 > hi0 { hi0 = hi1 }; if hi2 > hi0 { hi0 = hi2 }; if hi3 > hi0 { hi0 = hi3 }
        min = lo0
        max = hi0
        if ts[firstIndex] < firstTime { firstTime = ts[firstIndex]; first = vs[firstIndex] }
        if ts[lastIndex] >= lastTime { lastTime = ts[lastIndex]; last = vs[lastIndex] }
        if keepValues { values.append(contentsOf: vs[range]) }
    }

    mutating func add(summary s: ChunkSummary, minTime: Int64, maxTime: Int64) {
        count += s.count
        sum += s.sum
        if s.min < min { min = s.min }
        if s.max > max { max = s.max }
        if minTime < firstTime { firstTime = minTime; first = s.first }
        if maxTime >= lastTime { lastTime = maxTime; last = s.last }
    }

    mutating func merge(_ o: Accumulator) {
        count += o.count
        sum += o.sum
        if o.min < min { min = o.min }
        if o.max > max { max = o.max }
        if o.firstTime < firstTime { firstTime = o.firstTime; first = o.first }
        if o.lastTime >= lastTime { lastTime = o.lastTime; last = o.last }
        values.append(contentsOf: o.values)
    }

    func value(_ agg: Aggregation) -> Double {
        switch agg {
        case .avg: return sum / Double(count)
        case .min: return min
        case .max: return max
        case .sum: return sum
        case .count: return Double(count)
        case .first: return first
        case .last: return last
        case .p50, .p90, .p95, .p99: return Self.quantile(values, agg.quantile!)
        }
    }

    /// Linear interpolation between the closest ranks (NumPy's default).
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let v = values.sorted()
        let pos = q * Double(v.count - 1)
        let lo = Int(pos.rounded(.down)), hi = Swift.min(lo + 1, v.count - 1)
        let frac = pos - Double(lo)
        return v[lo] + (v[hi] - v[lo]) * frac
    }
}

/// Buckets touched by one series or group, in ascending bucket order.
struct BucketRun: Sendable {
    var keys: [Int64] = []
    var accs: [Accumulator] = []

    @inline(__always)
    mutating func slot(_ key: Int64) -> Int {
        if let last = keys.last, last == key { return keys.count - 1 }
        keys.append(key)
        accs.append(Accumulator())
        return keys.count - 1
    }

    /// Merges another run (buckets may interleave).
    mutating func merge(_ o: BucketRun) {
        if keys.isEmpty { self = o; return }
        var k: [Int64] = [], a: [Accumulator] = []
        k.reserveCapacity(keys.count + o.keys.count)
        a.reserveCapacity(keys.count + o.keys.count)
        var i = 0, j = 0
        while i < keys.count || j < o.keys.count {
            if j == o.keys.count || (i < keys.count && keys[i] < o.keys[j]) {
                k.append(keys[i]); a.append(accs[i]); i += 1
            } else if i == keys.count || o.keys[j] < keys[i] {
                k.append(o.keys[j]); a.append(o.accs[j]); j += 1
            } else {
                var m = accs[i]
                m.merge(o.accs[j])
                k.append(keys[i]); a.append(m); i += 1; j += 1
            }
        }
        keys = k
        accs = a
    }
}
