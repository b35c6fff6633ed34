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
        // Each series' newest timestamp so far, in an open-addressing table sized to the
        // series the batch can hold (no hashing of a `Dictionary`, one allocation).
        var maxRef: UInt32 = 0
        for r in refs where r > maxRef { maxRef = r }
        var capacity = 16
        while capacity < 2 * min(count, Int(maxRef) + 1) { capacity <<= 1 }
        let shift = UInt64(64 - capacity.trailingZeroBitCount)
        let mask = capacity - 1
        var slots = [Slot](repeating: Slot(), count: capacity)
        return slots.withUnsafeMutableBufferPointer { table in
            refs.withUnsafeBufferPointer { r in
                timestamps.withUnsafeBufferPointer { t in
                    for i in 0..<r.count {
                        let key = UInt64(r[i])
                        var k = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
                        while true {
                            if table[k].key == Slot.empty {
                                table[k] = Slot(key: key, newest: t[i])
                                break
                            }
                            if table[k].key == key {
                                if t[i] < table[k].newest { return false }
                                table[k].newest = t[i]
                                break
                            }
                            k = (k &+ 1) & mask
                        }
                    }
                    return true
                }
            }
        }
    }

    private struct Slot {
        static let empty = UInt64.max
        var key = Slot.empty
        var newest: Int64 = 0
    }
}
