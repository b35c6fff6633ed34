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

    /// Label names, or with `value` the values of label `value`, of the series any of
    /// `selections` selects (each a matcher list, as one `match[]`), restricted to those whose
    /// span meets [`start`, `end`] when a window is given; sorted, each once. Prometheus'
    /// `/labels` and `/label/<name>/values` with `match[]`: the series' interned pair ids are
    /// collected, so no ``Labels`` is built.
    ///
    /// - Throws: ``TSDBError/seriesLimitExceeded(limit:returned:)`` when one selection keeps
    ///   more than `maxSeries` series (as ``series(matchers:overlapping:_:maxSeries:)``), and
    ///   the selection's own errors.
    package func labelStrings(of selections: [[LabelMatcher]], value name: String? = nil,
                              overlapping window: (start: Int64, end: Int64)?, maxSeries: Int? = nil) throws -> [String] {
        var pids = Set<UInt32>()
        var view: SeriesLabelView?
        for matchers in selections {
            let (kept, v) = try selectedSeries(matchers, overlapping: window)
            if let maxSeries, kept.count > maxSeries { throw TSDBError.seriesLimitExceeded(limit: maxSeries, returned: kept.count) }
            for id in kept { v.insertPairIDs(of: id, into: &pids) }
            view = v
        }
        // Pair ids only grow, so the newest view names every pair an earlier one did.
        guard let view else { return [] }
        var out = Set<String>()
        for pid in pids {
            let p = view.pair(pid)
            if let name { if p.name == name { out.insert(p.value) } } else { out.insert(p.name) }
        }
        return out.sorted()
    }

    /// The series `matchers` select (that exist and, with a window, whose span meets it),
    /// ascending, with the index's label view to read their labels from. The engine lock is
    /// held for integer tests and an O(1) copy only; labels are read after.
    func selectedSeries(_ matchers: [LabelMatcher], overlapping window: (start: Int64, end: Int64)?) throws
        -> (ids: [UInt32], view: SeriesLabelView) {
        let ids = try selectSeries(metric: nil, matchers: matchers).ids
        return state.withLock { s in
            let kept = ids.filter { id in
                guard s.index.contains(id) else { return false }
                guard let window else { return true }
                return Self.span(of: id, s.seriesMin, s.seriesMax, meets: window.start, window.end)
            }
            return (kept, s.index.view)
        }
    }

    private static func anyOverlaps<C: Collection>(_ lists: C, _ lo: [Int64], _ hi: [Int64], _ start: Int64, _ end: Int64) -> Bool
    where C.Element == [UInt32] {
        for ids in lists {
            for id in ids where span(of: id, lo, hi, meets: start, end) { return true }
        }
        return false
    }

    /// Whether series `id`'s first-to-last sample span (`lo`, `hi`: the engine's per-series
    /// bounds) meets [`start`, `end`], inclusive; false for an id the bounds do not cover.
    @inline(__always)
    static func span(of id: UInt32, _ lo: [Int64], _ hi: [Int64], meets start: Int64, _ end: Int64) -> Bool {
        let i = Int(id)
        return i < lo.count && lo[i] <= end && hi[i] >= start
    }
}
