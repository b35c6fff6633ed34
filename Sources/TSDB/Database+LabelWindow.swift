extension TSDB {
    /// Label names carried by at least one series whose first-to-last sample span meets
    /// [`start`, `end`] (nanoseconds, inclusive), sorted: Prometheus' `/labels` with a window
    /// and no `match[]`. Answered from the postings and the per-series time bounds, as
    /// ``series(matchers:overlapping:_:maxSeries:)`` is; a name stops being scanned at its
    /// first series in the window, so a window holding most series costs about one look per
    /// name. The postings and bounds are taken under the engine lock (copy-on-write, O(1)) and
    /// scanned outside it.
    package func labelNames(overlapping start: Int64, _ end: Int64) -> [String] {
        let (postings, lo, hi) = state.withLock { s in (s.index.postings, s.seriesMin, s.seriesMax) }
        var out: [String] = []
        for (name, values) in postings where Self.anyOverlaps(values.values, lo, hi, start, end) { out.append(name) }
        return out.sorted()
    }

    /// Values of label `name` carried by at least one series whose span meets [`start`,
    /// `end`], sorted: `/label/<name>/values` with a window and no `match[]`.
    package func labelValues(_ name: String, overlapping start: Int64, _ end: Int64) -> [String] {
        let (values, lo, hi) = state.withLock { s in (s.index.postings[name] ?? [:], s.seriesMin, s.seriesMax) }
        var out: [String] = []
        for (value, ids) in values where Self.anyOverlaps(CollectionOfOne(ids), lo, hi, start, end) { out.append(value) }
        return out.sorted()
    }

    private static func anyOverlaps<C: Collection>(_ lists: C, _ lo: [Int64], _ hi: [Int64], _ start: Int64, _ end: Int64) -> Bool
    where C.Element == [UInt32] {
        for ids in lists {
            for id in ids {
                let i = Int(id)
                if i < lo.count, lo[i] <= end, hi[i] >= start { return true }
            }
        }
        return false
    }
}
