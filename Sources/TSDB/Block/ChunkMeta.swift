/// Count, min, max, sum, first and last of a chunk: enough to answer the summarizable
/// aggregations for a bucket that covers the whole chunk without decoding it.
public struct ChunkSummary: Sendable, Equatable {
    public var count: Int
    public var min: Double
    public var max: Double
    public var sum: Double
    public var first: Double
    public var last: Double
    /// A NaN makes min/max/sum order-dependent, so such chunks are always decoded.
    public var hasNaN: Bool

    init(values: UnsafeBufferPointer<Double>) {
        count = values.count
        var mn = Double.infinity, mx = -Double.infinity, s = 0.0, nan = false
        for v in values {
            if v.isNaN { nan = true; continue }
            if v < mn { mn = v }
            if v > mx { mx = v }
            s += v
        }
        min = mn; max = mx; sum = s
        first = values.first ?? 0
        last = values.last ?? 0
        hasNaN = nan
    }

    init(count: Int, min: Double, max: Double, sum: Double, first: Double, last: Double, hasNaN: Bool) {
        self.count = count; self.min = min; self.max = max; self.sum = sum
        self.first = first; self.last = last; self.hasNaN = hasNaN
    }
}

/// Where one chunk of one series lives in a block, and its summary.
package struct ChunkMeta: Sendable {
    package var minTime: Int64
    package var maxTime: Int64
    package var tsOffset: Int
    package var valueOffset: Int
    package var summary: ChunkSummary
    package var count: Int { summary.count }
}
