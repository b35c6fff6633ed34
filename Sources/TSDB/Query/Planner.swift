/// A validated query and the planning of it: the normalised range, bucket layout and limits
/// (``init(query:limits:)``), then, over a snapshot, the ``ExecutionPlan`` that execution
/// and `explain` share (``plan(_:deadline:)``).
struct Planner: Sendable {
    let start: Int64
    /// The range's end; ``plan(_:deadline:)`` narrows it for ``Query/earliestSamples``.
    private(set) var end: Int64
    let step: Int64?
    let aggregation: Aggregation?
    let groupBy: [String]?
    let metric: String?
    let earliestSamples: Int?
    let limits: QueryLimits

    init(query q: Query, limits: QueryLimits) throws {
        guard q.start <= q.end else {
            throw TSDBError.invalidQuery("start (\(q.start)) is after end (\(q.end))")
        }
        if let step = q.step, step <= 0 { throw TSDBError.invalidQuery("step must be positive") }
        if q.groupBy != nil, q.aggregation == nil, q.step == nil {
            throw TSDBError.invalidQuery("group-by needs an aggregation (--agg)")
        }
        if let limit = q.limit, limit <= 0 { throw TSDBError.invalidQuery("limit must be positive") }
        if let n = q.earliestSamples, n <= 0 { throw TSDBError.invalidQuery("earliestSamples must be positive") }
        start = q.start
        end = q.end
        step = q.step
        let aggregation = q.aggregation ?? ((q.step != nil || q.groupBy != nil) ? .avg : nil)
        self.aggregation = aggregation
        groupBy = q.groupBy
        metric = q.metric
        earliestSamples = aggregation == nil ? q.earliestSamples : nil
        self.limits = limits
    }

    /// The bucket a timestamp falls in: aligned multiples of the step, or one bucket.
    @inline(__always)
    func bucket(_ t: Int64) -> Int64 {
        guard let step else { return 0 }
        return TSDB.floorDiv(t, step)
    }

    func bucketTime(_ key: Int64, firstSample: Int64) -> Int64 {
        guard let step else { return start == Int64.min ? firstSample : start }
        return key &* step
    }

    /// Whether a chunk can be answered from its summary alone.
    func canSummarize(_ m: ChunkMeta) -> Bool {
        guard let agg = aggregation, agg.summarizable, !m.summary.hasNaN else { return false }
        return m.minTime >= start && m.maxTime <= end && bucket(m.minTime) == bucket(m.maxTime)
    }

    /// Decides every series' reads, the groups and the estimates, and, when `enforce`,
    /// refuses (before anything is decoded) a plan over ``limits``; `explain` shows an
    /// over-limit plan with the estimates that refuse it.
    func plan(_ snap: Snapshot, deadline: QueryDeadline, enforce: Bool = true) throws -> ExecutionPlan {
        var planner = self
        if let n = earliestSamples { planner.end = try narrowedEnd(snap, samples: n, deadline: deadline) }
        let n = snap.ids.count
        var series: [SeriesPlan] = []
        series.reserveCapacity(n)
        var decode = 0
        var inRange = 0
        for k in 0..<n {
            if k & 4095 == 4095 { try deadline.check() }
            let p = planner.seriesPlan(snap, k)
            decode += p.samplesToDecode
            series.append(p)
            if !p.isEmpty { inRange += 1 }
        }
        if enforce, decode > limits.maxSamples {
            throw TSDBError.sampleLimitExceeded(limit: limits.maxSamples, estimated: decode)
        }

        var groupOf: [Int]?
        var groupLabels: [Labels] = []
        var returned = inRange
        if let groupBy {
            // A group is found by the interned ids of its series' grouped pairs (equal ids,
            // equal pairs); its labels are built once, when it is first seen.
            var index: [[UInt32]: Int] = [:]
            var of = [Int](repeating: -1, count: n)
            var key: [UInt32] = []
            for k in 0..<n where !series[k].isEmpty {
                snap.labels.pairIDs(keeping: groupBy, k, into: &key)
                if let g = index[key] { of[k] = g } else {
                    var labels = snap.labels.keeping(groupBy, k)
                    if let metric { labels = Labels(labels.pairs + [Label(Labels.metricName, metric)]) }
                    of[k] = groupLabels.count
                    index[key] = groupLabels.count
                    groupLabels.append(labels)
                }
            }
            groupOf = of
            returned = groupLabels.count
        }
        if enforce, returned > limits.maxSeries {
            throw TSDBError.seriesLimitExceeded(limit: limits.maxSeries, returned: returned)
        }

        let bytes = planner.resultBytes(snap, series, groups: groupOf.map { ($0, groupLabels) }, decode: decode)
        if enforce, bytes > limits.maxResultBytes {
            throw TSDBError.resultBytesLimitExceeded(limit: limits.maxResultBytes, estimated: bytes)
        }
        let blocks = snap.blocks.indices.filter { snap.blocks[$0].record.maxTime >= planner.start && snap.blocks[$0].record.minTime <= planner.end }
        return ExecutionPlan(planner: planner, snapshot: snap, series: series, groupOf: groupOf, groupLabels: groupLabels,
                             seriesReturned: returned, samplesToDecode: decode, resultBytes: bytes, blocks: blocks)
    }

    /// One series' steps: its sources in range, grouped where they overlap, each chunk
    /// summarised when it lies inside one bucket.
    func seriesPlan(_ snap: Snapshot, _ k: Int) -> SeriesPlan {
        var p = SeriesPlan()
        let (sources, pruned) = snap.sources(k, start: start, end: end)
        p.chunksPruned = pruned
        for group in SeriesReader.overlapGroups(sources) {
            if group.count > 1 {
                for src in group {
                    if case .chunk = src { p.chunksTotal += 1; p.chunksToDecode += 1 } else { p.hasMemory = true }
                    p.samplesToDecode += src.count
                }
                p.steps.append(.merge(group))
                continue
            }
            switch group[0] {
            case .chunk(let bi, let m):
                p.chunksTotal += 1
                if canSummarize(m) {
                    p.chunksSummarizable += 1
                    p.steps.append(.summarize(block: bi, meta: m))
                } else {
                    p.chunksToDecode += 1
                    p.samplesToDecode += m.count
                    p.steps.append(.decode(block: bi, meta: m))
                }
            case .memory(let c, let lo, let hi):
                p.hasMemory = true
                p.samplesToDecode += hi - lo
                p.steps.append(.memory(c, lo: lo, hi: hi))
            }
        }
        return p
    }

    /// The earliest end at which at least `samples` samples, plus one per series (a cursor
    /// skips at most one tied sample per series), lie in `[start, end]`, counted from chunk
    /// and head counts without decoding. A chunk that starts before `start` or ends after
    /// `end` counts nothing (its share in range is unknown), and overlapping sources of one
    /// series count as the largest of them (they may repeat timestamps), so the count is a
    /// lower bound and the narrowed range holds at least what was asked for.
    func narrowedEnd(_ snap: Snapshot, samples: Int, deadline: QueryDeadline) throws -> Int64 {
        let (need, overflow) = samples.addingReportingOverflow(snap.ids.count)
        guard !overflow else { return end }
        var runs: [(maxTime: Int64, count: Int)] = []
        for k in 0..<snap.ids.count {
            if k & 4095 == 4095 { try deadline.check() }
            for group in SeriesReader.overlapGroups(snap.sources(k, start: start, end: end).sources) {
                var count = 0, maxTime = Int64.min
                for src in group {
                    maxTime = max(maxTime, src.maxTime)
                    if case .chunk(_, let m) = src, m.minTime < start || m.maxTime > end { continue }
                    count = max(count, src.count)
                }
                runs.append((maxTime, count))
            }
        }
        runs.sort { $0.maxTime < $1.maxTime }
        var total = 0
        for r in runs {
            total += r.count
            if total >= need { return min(end, r.maxTime) }
        }
        return end
    }

    /// Bytes of the answer: 16 a returned sample or bucket (timestamp and value), the size of
    /// a bucket's accumulator while aggregating, 8 a sample kept for a percentile, and the
    /// labels of each returned series.
    func resultBytes(_ snap: Snapshot, _ series: [SeriesPlan], groups: (of: [Int], labels: [Labels])?, decode: Int) -> Int {
        let perSeries = 64
        var bytes = 0
        guard aggregation != nil else {
            for (k, p) in series.enumerated() where !p.isEmpty {
                var samples = 0
                for s in p.steps {
                    switch s {
                    case .summarize(_, let m), .decode(_, let m): samples += m.count
                    case .memory(_, let lo, let hi): samples += hi - lo
                    case .merge(let g): samples += g.reduce(0) { $0 + $1.count }
                    }
                }
                bytes = bytes.addingClamped(samples.multipliedClamped(16)).addingClamped(snap.labels.canonicalByteCount(k) + perSeries)
            }
            return bytes
        }
        let bucketBytes = MemoryLayout<Accumulator>.stride + MemoryLayout<Int64>.stride + 16
        let buckets = bucketCount(snap)
        if let groups {
            // A group has at most as many buckets as its series have samples and summaries.
            var points = [Int](repeating: 0, count: groups.labels.count)
            for (k, p) in series.enumerated() where groups.of[k] >= 0 {
                points[groups.of[k]] = points[groups.of[k]].addingClamped(p.steps.count + p.samplesToDecode)
            }
            for (g, l) in groups.labels.enumerated() {
                bytes = bytes.addingClamped(min(buckets, points[g]).multipliedClamped(bucketBytes)).addingClamped(l.canonicalBytes.count + perSeries)
            }
            // Each series' own buckets live until folded into its group.
            bytes = bytes.addingClamped(series.count.multipliedClamped(perSeries))
        } else {
            for (k, p) in series.enumerated() where !p.isEmpty {
                let own = min(buckets, p.steps.count.addingClamped(p.samplesToDecode))
                bytes = bytes.addingClamped(own.multipliedClamped(bucketBytes)).addingClamped(snap.labels.canonicalByteCount(k) + perSeries)
            }
        }
        if aggregation?.quantile != nil { bytes = bytes.addingClamped(decode.multipliedClamped(8)) }
        return bytes
    }

    /// Buckets the range cuts the selected data into (the range may be open: the data's own
    /// bounds close it); Int.max when that overflows.
    func bucketCount(_ snap: Snapshot) -> Int {
        guard let step else { return 1 }
        let lo = max(start, snap.dataMin), hi = min(end, snap.dataMax)
        guard lo <= hi else { return 0 }
        let (span, overflow) = TSDB.floorDiv(hi, step).subtractingReportingOverflow(TSDB.floorDiv(lo, step))
        return overflow || span >= Int64(Int.max) ? Int.max : Int(span) + 1
    }

    func materialize(_ run: BucketRun, labels: Labels, agg: Aggregation) -> SeriesResult {
        var ts: [Int64] = [], vs: [Double] = []
        ts.reserveCapacity(run.keys.count)
        vs.reserveCapacity(run.keys.count)
        for (i, key) in run.keys.enumerated() where run.accs[i].count > 0 {
            ts.append(bucketTime(key, firstSample: run.accs[i].firstTime))
            vs.append(run.accs[i].value(agg))
        }
        return SeriesResult(labels: labels, timestamps: ts, values: vs)
    }
}

extension Int {
    func addingClamped(_ o: Int) -> Int { let (r, v) = addingReportingOverflow(o); return v ? .max : r }
    func multipliedClamped(_ o: Int) -> Int { let (r, v) = multipliedReportingOverflow(by: o); return v ? .max : r }
}
