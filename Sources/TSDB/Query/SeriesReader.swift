/// Runs one series' ``SeriesPlan``: merges overlapping sources (newest wins on equal
/// timestamps), answers whole-chunk buckets from summaries, decodes the rest into reused
/// buffers. It decides nothing the plan has not: `explain` reports the same steps.
struct SeriesReader {
    let snapshot: Snapshot
    let plan: Planner
    /// Checked before each series and each group of chunks.
    let deadline: QueryDeadline
    private var vs: [Double] = []
    private var scratch: [UInt8] = []

    init(snapshot: Snapshot, plan: Planner, deadline: QueryDeadline = .none) {
        self.snapshot = snapshot
        self.plan = plan
        self.deadline = deadline
    }

    /// Groups of sources whose time ranges overlap (transitively); sources of one group
    /// must be merged, a group of one can be read as it is. Sorted by time.
    static func overlapGroups(_ sources: [Snapshot.Source]) -> [[Snapshot.Source]] {
        guard sources.count > 1 else { return sources.isEmpty ? [] : [sources] }
        // Keep the original (priority) order inside a group: sort indices by time.
        let order = sources.indices.sorted { (sources[$0].minTime, $0) < (sources[$1].minTime, $1) }
        var groups: [[Int]] = []
        var groupMax = Int64.min
        for i in order {
            if let _ = groups.last, sources[i].minTime <= groupMax {
                groups[groups.count - 1].append(i)
                groupMax = max(groupMax, sources[i].maxTime)
            } else {
                groups.append([i])
                groupMax = sources[i].maxTime
            }
        }
        return groups.map { $0.sorted().map { sources[$0] } }
    }

    /// Decoded timestamp columns by (block, column offset). Every metric of one DCGM scrape
    /// shares a timestamp column in a block, so a query over several metrics of a GPU, or over
    /// the GPUs of a host, decodes (and checksums) each column once instead of once per series.
    private var columns: [ColumnKey: [Int64]] = [:]
    private var cachedSamples = 0
    /// Bounds the cache (8 B per sample): past it the cache starts over.
    static let columnCacheSamples = 1 << 21

    private struct ColumnKey: Hashable { var block: Int; var offset: Int }

    /// Runs series `k`'s steps of the plan, counting what it does in the outcome's stats.
    mutating func read(_ k: Int, _ steps: SeriesPlan) throws -> SeriesOutcome {
        try deadline.check()
        var out = SeriesOutcome()
        out.stats.chunksPruned = steps.chunksPruned
        for step in steps.steps {
            try deadline.check()
            switch step {
            case .merge(let group):
                for s in group {
                    if case .chunk = s { out.stats.chunksTotal += 1 } else { out.stats.headSeries = 1 }
                }
                let (gts, gvs) = try materialize(group, stats: &out.stats)
                gts.withUnsafeBufferPointer { t in gvs.withUnsafeBufferPointer { v in add(t, v, to: &out) } }
            case .summarize(_, let m):
                out.stats.chunksTotal += 1
                let slot = out.run.slot(plan.bucket(m.minTime))
                out.run.accs[slot].add(summary: m.summary, minTime: m.minTime, maxTime: m.maxTime)
                out.stats.chunksSummarized += 1
            case .decode(let bi, let m):
                out.stats.chunksTotal += 1
                let column = try timestamps(bi, m)
                try snapshot.blocks[bi].decodeValues(m, into: &vs, scratch: &scratch)
                out.stats.chunksDecoded += 1
                out.stats.samplesScanned += m.count
                column.withUnsafeBufferPointer { t in
                    vs.withUnsafeBufferPointer { v in
                        add(UnsafeBufferPointer(rebasing: t[..<m.count]), UnsafeBufferPointer(rebasing: v[..<m.count]), to: &out)
                    }
                }
            case .memory(let c, let lo, let hi):
                out.stats.headSeries = 1
                out.stats.samplesScanned += hi - lo
                c.timestamps.withUnsafeBufferPointer { t in
                    c.values.withUnsafeBufferPointer { v in
                        add(UnsafeBufferPointer(rebasing: t[lo..<hi]), UnsafeBufferPointer(rebasing: v[lo..<hi]), to: &out)
                    }
                }
            }
        }
        return out
    }

    /// A chunk's timestamps, from the cache when another series of this query shares them.
    private mutating func timestamps(_ block: Int, _ m: ChunkMeta) throws -> [Int64] {
        let key = ColumnKey(block: block, offset: m.tsOffset)
        if let hit = columns[key], hit.count == m.count { return hit }
        var decoded: [Int64] = []
        try snapshot.blocks[block].decodeTimestamps(m, into: &decoded, scratch: &scratch)
        if cachedSamples + m.count > Self.columnCacheSamples { columns.removeAll(keepingCapacity: true); cachedSamples = 0 }
        columns[key] = decoded
        cachedSamples += m.count
        return decoded
    }

    /// Adds the samples of one source or merged group (ascending, unique timestamps) that lie
    /// in the query range: appended as they are for a raw query, else folded into buckets.
    /// Buckets are found from their end boundary, one division per bucket, not per sample.
    private func add(_ ts: UnsafeBufferPointer<Int64>, _ vs: UnsafeBufferPointer<Double>, to out: inout SeriesOutcome) {
        let lo = Snapshot.lowerBound(ts, plan.start), hi = Snapshot.upperBound(ts, plan.end)
        guard lo < hi else { return }
        guard plan.aggregation != nil else {
            out.timestamps.append(contentsOf: ts[lo..<hi])
            out.values.append(contentsOf: vs[lo..<hi])
            return
        }
        let keep = plan.aggregation?.quantile != nil
        var i = lo
        while i < hi {
            let b = plan.bucket(ts[i])
            var j = hi
            if let step = plan.step {
                let (next, o1) = b.addingReportingOverflow(1)
                let (boundary, o2) = next.multipliedReportingOverflow(by: step)
                if !o1 && !o2 {
                    // The first sample at or past the boundary, by binary search: a bucket
                    // usually holds many samples.
                    var a = i + 1, z = hi
                    while a < z { let m = (a + z) >> 1; if ts[m] < boundary { a = m + 1 } else { z = m } }
                    j = a
                }
            }
            let slot = out.run.slot(b)
            out.run.accs[slot].add(ts, vs, i..<j, keepValues: keep)
            i = j
        }
    }

    /// The samples of a group of overlapping sources, merged in priority order.
    private mutating func materialize(_ group: [Snapshot.Source], stats: inout QueryStats) throws -> ([Int64], [Double]) {
        var parts: [(ts: [Int64], vs: [Double])] = []
        parts.reserveCapacity(group.count)
        for src in group {
            switch src {
            case .chunk(let bi, let m):
                let column = try timestamps(bi, m)
                try snapshot.blocks[bi].decodeValues(m, into: &vs, scratch: &scratch)
                parts.append((column, Array(vs[0..<m.count])))
                stats.chunksDecoded += 1
                stats.samplesScanned += m.count
            case .memory(let c, let lo, let hi):
                parts.append((Array(c.timestamps[lo..<hi]), Array(c.values[lo..<hi])))
                stats.samplesScanned += hi - lo
            }
        }
        return SampleMerge.merge(parts)
    }
}
