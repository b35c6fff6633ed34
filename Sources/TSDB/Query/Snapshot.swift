/// What one query reads, taken under the state lock in one step: the selected series,
/// the blocks, the frozen heads and the head columns. Later writes do not change it.
struct Snapshot {
    var ids: [UInt32]
    var labels: [Labels]
    var blocks: [Block]
    var frozen: [FrozenHead]
    var head: [HeadColumn?]
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
        for f in frozen { if let c = f.head.column(id) { memory(c) } }
        if let c = head[k] { memory(c) }
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

extension TSDB {
    func snapshot(_ q: Query) throws -> Snapshot {
        try state.withLock { s in
            guard !s.closed else { throw TSDBError.closed }
            let (ids, steps) = s.index.select(metric: q.metric, matchers: q.matchers)
            var labels: [Labels] = []
            var head: [HeadColumn?] = []
            labels.reserveCapacity(ids.count)
            head.reserveCapacity(ids.count)
            var dMin = Int64.max, dMax = Int64.min
            for id in ids {
                labels.append(s.index.labels(of: id)!)
                head.append(s.head.column(id))
                let i = Int(id)
                if i < s.seriesMin.count {
                    dMin = min(dMin, s.seriesMin[i])
                    dMax = max(dMax, s.seriesMax[i])
                }
            }
            return Snapshot(ids: ids, labels: labels, blocks: s.blocks, frozen: s.frozen, head: head,
                            steps: steps, dataMin: dMin, dataMax: dMax)
        }
    }
}
