/// A validated query: the normalised range, bucket layout and limits.
struct Planner: Sendable {
    let start: Int64
    let end: Int64
    let step: Int64?
    let aggregation: Aggregation?
    let groupBy: [String]?
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
        start = q.start
        end = q.end
        step = q.step
        aggregation = q.aggregation ?? ((q.step != nil || q.groupBy != nil) ? .avg : nil)
        groupBy = q.groupBy
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

    func checkLimits(_ snap: Snapshot) throws {
        if snap.ids.count > limits.maxSeries {
            throw TSDBError.seriesLimitExceeded(limit: limits.maxSeries, matched: snap.ids.count)
        }
        var estimate = 0
        for k in 0..<snap.ids.count {
            for src in snap.sources(k, start: start, end: end).sources {
                if case .chunk(_, let m) = src, canSummarize(m) { continue }
                estimate += src.count
            }
            if estimate > limits.maxSamples {
                throw TSDBError.sampleLimitExceeded(limit: limits.maxSamples, estimated: estimate)
            }
        }
        if let step {
            // Bound the buckets by the data actually selected (the range may be open).
            let lo = max(start, snap.dataMin), hi = min(end, snap.dataMax)
            if lo <= hi {
                let (span, overflow) = TSDB.floorDiv(hi, step).subtractingReportingOverflow(TSDB.floorDiv(lo, step))
                if overflow || span >= Int64(limits.maxSamples) {
                    throw TSDBError.sampleLimitExceeded(limit: limits.maxSamples, estimated: overflow ? Int.max : Int(span) + 1)
                }
            }
        }
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
