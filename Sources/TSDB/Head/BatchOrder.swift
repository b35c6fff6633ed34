extension SampleBatch {
    /// The batch with every series' samples in non-decreasing time order, which is what
    /// ``Head/append(_:)`` needs; samples of one series with equal timestamps keep their
    /// order (so the later one still wins). Returns `self` when that already holds — the
    /// common case, checked in one pass (two for batches that interleave series out of
    /// global time order); otherwise a stable sort by (series, time), O(n log n). The engine
    /// calls it before taking its lock.
    func orderedPerSeries() -> SampleBatch {
        if isPerSeriesOrdered() { return self }
        var order = [Int](0..<count)
        refs.withUnsafeBufferPointer { r in
            timestamps.withUnsafeBufferPointer { t in
                order.sort { a, b in
                    if r[a] != r[b] { return r[a] < r[b] }
                    if t[a] != t[b] { return t[a] < t[b] }
                    return a < b
                }
            }
        }
        var out = SampleBatch(capacity: count)
        for i in order {
            out.refs.append(refs[i])
            out.timestamps.append(timestamps[i])
            out.values.append(values[i])
        }
        return out
    }

    func isPerSeriesOrdered() -> Bool {
        let globallyOrdered = timestamps.withUnsafeBufferPointer { t -> Bool in
            var i = 1
            while i < t.count { if t[i] < t[i &- 1] { return false }; i &+= 1 }
            return true
        }
        if globallyOrdered { return true }
        var newest: [UInt32: Int64] = [:]
        for i in 0..<count {
            let t = timestamps[i]
            if let seen = newest[refs[i]], t < seen { return false }
            newest[refs[i]] = t
        }
        return true
    }
}
