/// Reads one series of a snapshot: merges its sources (newest wins on equal timestamps),
/// answers whole-chunk buckets from summaries, decodes the rest into reused buffers.
struct SeriesReader {
    let snapshot: Snapshot
    let plan: Planner
    private var ts: [Int64] = []
    private var vs: [Double] = []
    private var scratch: [UInt8] = []

    init(snapshot: Snapshot, plan: Planner) {
        self.snapshot = snapshot
        self.plan = plan
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

    mutating func read(_ k: Int) throws -> SeriesOutcome {
        var out = SeriesOutcome()
        let (sources, pruned) = snapshot.sources(k, start: plan.start, end: plan.end)
        out.stats.chunksPruned = pruned
        for s in sources {
            if case .chunk = s { out.stats.chunksTotal += 1 } else { out.stats.headSeries = 1 }
        }
        let keep = plan.aggregation?.quantile != nil
        for group in Self.overlapGroups(sources) {
            if group.count == 1, case .chunk(_, let m) = group[0], plan.canSummarize(m) {
                let slot = out.run.slot(plan.bucket(m.minTime))
                out.run.accs[slot].add(summary: m.summary, minTime: m.minTime, maxTime: m.maxTime)
                out.stats.chunksSummarized += 1
                continue
            }
            let (gts, gvs) = try materialize(group, stats: &out.stats)
            let lo = Snapshot.lowerBound(gts, plan.start), hi = Snapshot.upperBound(gts, plan.end)
            guard lo < hi else { continue }
            if plan.aggregation == nil {
                out.timestamps.append(contentsOf: gts[lo..<hi])
                out.values.append(contentsOf: gvs[lo..<hi])
            } else {
                var slot = -1
                var current = Int64.min
                for i in lo..<hi {
                    let b = plan.bucket(gts[i])
                    if slot < 0 || b != current { slot = out.run.slot(b); current = b }
                    out.run.accs[slot].add(gts[i], gvs[i], keepValues: keep)
                }
            }
        }
        return out
    }

    /// The samples of a group of overlapping sources, merged in priority order.
    private mutating func materialize(_ group: [Snapshot.Source], stats: inout QueryStats) throws -> ([Int64], [Double]) {
        var parts: [(ts: [Int64], vs: [Double])] = []
        parts.reserveCapacity(group.count)
        for src in group {
            switch src {
            case .chunk(let bi, let m):
                try snapshot.blocks[bi].decode(m, timestamps: &ts, values: &vs, scratch: &scratch)
                parts.append((Array(ts[0..<m.count]), Array(vs[0..<m.count])))
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
