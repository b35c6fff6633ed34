/// What one query reads: the selected series, the blocks and the series' in-memory
/// columns, taken under the state lock in one short step after the matchers were resolved
/// outside it. Later writes do not change it.
struct Snapshot {
    var ids: [UInt32]
    var labels: SnapshotLabels
    var blocks: [Block]
    /// Per selected series, its in-memory columns oldest first (frozen heads in priority
    /// order, then the head), each flattened to one sorted run.
    var memory: [[HeadColumn]]
    var steps: [String]
    var dataMin: Int64
    var dataMax: Int64

    /// Where one series' samples come from, oldest source (lowest priority) first.
    enum Source {
        case chunk(block: Int, meta: ChunkMeta)
        case memory(HeadColumn, lo: Int, hi: Int)

        var minTime: Int64 {
            switch self {
            case .chunk(_, let m): return m.minTime
            case .memory(let c, let lo, _): return c.timestamps[lo]
            }
        }

        var maxTime: Int64 {
            switch self {
            case .chunk(_, let m): return m.maxTime
            case .memory(let c, _, let hi): return c.timestamps[hi - 1]
            }
        }

        var count: Int {
            switch self {
            case .chunk(_, let m): return m.count
            case .memory(_, let lo, let hi): return hi - lo
            }
        }
    }

    /// Sources of series `k` that overlap [start, end], plus how many chunks were pruned.
    func sources(_ k: Int, start: Int64, end: Int64) -> (sources: [Source], pruned: Int) {
        let id = ids[k]
        var out: [Source] = []
        var pruned = 0
        for (bi, b) in blocks.enumerated() where b.record.maxTime >= start && b.record.minTime <= end {
            for m in b.chunks(of: id) {
                if m.maxTime < start || m.minTime > end { pruned += 1; continue }
                out.append(.chunk(block: bi, meta: m))
            }
        }
        func memory(_ c: HeadColumn) {
            let ts = c.timestamps
            let lo = Self.lowerBound(ts, start)
            let hi = Self.upperBound(ts, end)
            if lo < hi { out.append(.memory(c, lo: lo, hi: hi)) }
        }
        for c in self.memory[k] { memory(c) }
        return (out, pruned)
    }

    static func lowerBound(_ ts: [Int64], _ t: Int64) -> Int {
        ts.withUnsafeBufferPointer { lowerBound($0, t) }
    }

    static func upperBound(_ ts: [Int64], _ t: Int64) -> Int {
        ts.withUnsafeBufferPointer { upperBound($0, t) }
    }

    static func lowerBound(_ ts: UnsafeBufferPointer<Int64>, _ t: Int64) -> Int {
        var lo = 0, hi = ts.count
        while lo < hi { let m = (lo + hi) >> 1; if ts[m] < t { lo = m + 1 } else { hi = m } }
        return lo
    }

    static func upperBound(_ ts: UnsafeBufferPointer<Int64>, _ t: Int64) -> Int {
        var lo = 0, hi = ts.count
        while lo < hi { let m = (lo + hi) >> 1; if ts[m] <= t { lo = m + 1 } else { hi = m } }
        return lo
    }
}

/// The selected series' labels, built from the index's view when a step asks for them.
struct SnapshotLabels {
    let view: SeriesLabelView
    let ids: [UInt32]

    /// Series `k`'s labels (every selected series exists in the view: series are never
    /// removed from the index).
    subscript(k: Int) -> Labels { view.labels(of: ids[k]) ?? Labels(sortedPairs: []) }

    /// `self[k].keeping(names)`, building only those pairs.
    func keeping(_ names: [String], _ k: Int) -> Labels { view.labels(of: ids[k], keeping: names) ?? Labels(sortedPairs: []) }

    /// The pair ids of `self[k].keeping(names)`, in label order, into `key` (emptied first).
    func pairIDs(keeping names: [String], _ k: Int, into key: inout [UInt32]) {
        view.pairIDs(of: ids[k], keeping: names, into: &key)
    }

    /// `self[k].canonicalBytes.count`, building nothing.
    func canonicalByteCount(_ k: Int) -> Int { view.canonicalByteCount(of: ids[k]) }
}

extension TSDB {
    /// Resolves the query's matchers and takes its snapshot. The engine lock is held twice,
    /// briefly: to take the index's posting maps (O(matchers)), and to take the selected
    /// series' columns (O(series selected), a retain each) with the index's label view
    /// (O(1)). Matching — regexes included —, building labels and merging out-of-order runs
    /// happen between and after, outside it.
    func snapshot(_ q: Query, deadline: QueryDeadline = .none) throws -> Snapshot {
        let (ids, steps) = try selectSeries(metric: q.metric, metrics: q.metrics, matchers: q.matchers, deadline: deadline)
        var snap = try state.withLock { s -> Snapshot in
            guard !s.closed else { throw TSDBError.closed }
            var memory: [[HeadColumn]] = []
            memory.reserveCapacity(ids.count)
            var dMin = Int64.max, dMax = Int64.min
            var selected: [UInt32] = []
            selected.reserveCapacity(ids.count)
            for id in ids {
                guard s.index.contains(id) else { continue }
                selected.append(id)
                var columns: [HeadColumn] = []
                for f in s.frozen { if let c = f.head.column(id) { columns.append(c) } }
                if let c = s.head.column(id) { columns.append(c) }
                memory.append(columns)
                let i = Int(id)
                if i < s.seriesMin.count {
                    dMin = min(dMin, s.seriesMin[i])
                    dMax = max(dMax, s.seriesMax[i])
                }
            }
            return Snapshot(ids: selected, labels: SnapshotLabels(view: s.index.view, ids: selected), blocks: s.blocks, memory: memory,
                            steps: steps, dataMin: dMin, dataMax: dMax)
        }
        for k in snap.memory.indices {
            for j in snap.memory[k].indices where snap.memory[k][j].needsFlattening {
                snap.memory[k][j] = snap.memory[k][j].flattened()
            }
        }
        return snap
    }

    /// Series ids the metric and matchers select, ascending, and the steps taken; the
    /// matching runs outside the engine lock.
    func selectSeries(metric: String?, metrics: [String] = [], matchers: [LabelMatcher], deadline: QueryDeadline = .none) throws -> (ids: [UInt32], steps: [String]) {
        let input = try state.withLock { s -> SelectionInput in
            guard !s.closed else { throw TSDBError.closed }
            return s.index.selectionInput(metric: metric, matchers: matchers)
        }
        return try Selector.select(input, metrics: metrics, cache: regexCache, deadline: deadline)
    }
}
