import Dispatch
import Foundation

extension TSDB {
    /// The raw samples of a query (no aggregation, step or grouping), as ``query(_:)`` returns
    /// them but with every timestamp divided by `timeUnit` nanoseconds, rounded down
    /// (`1_000_000`: milliseconds), for an evaluator that works on a coarser clock.
    ///
    /// Built for range evaluation over many series: each series' values are decoded straight
    /// into one array of their exact size, and series whose samples come from the same
    /// timestamp columns (every metric of one DCGM scrape, the GPUs of one host) share one
    /// timestamps array (copy-on-write), decoded and divided once. Series read from the head or
    /// from overlapping sources take ``query(_:)``'s path for that series alone.
    ///
    /// Dividing can make neighbouring timestamps equal (two samples in one millisecond); they
    /// are kept, in order, for the caller to resolve. Limits, the deadline and errors are those
    /// of ``query(_:)``; series are in the same order (canonical label bytes).
    ///
    /// ```swift
    /// var q = Query(metric: "DCGM_FI_DEV_POWER_USAGE", start: t0, end: t1)
    /// let r = try db.rawSamples(q, timeUnit: 1_000_000)   // timestamps in ms
    /// ```
    package func rawSamples(_ query: Query, timeUnit: Int64) throws -> QueryResult {
        guard query.aggregation == nil, query.step == nil, query.groupBy == nil, query.earliestSamples == nil else {
            throw TSDBError.invalidQuery("rawSamples reads raw samples: no aggregation, step, grouping or earliestSamples")
        }
        guard timeUnit > 0 else { throw TSDBError.invalidQuery("timeUnit must be positive") }
        return try underDeadline(query) { try rawSamples(query, unit: timeUnit, deadline: $0) }
    }

    private func rawSamples(_ query: Query, unit: Int64, deadline: QueryDeadline) throws -> QueryResult {
        let started = DispatchTime.now().uptimeNanoseconds
        let plan = try executionPlan(query, deadline: deadline)
        let snap = plan.snapshot
        let n = snap.ids.count
        let start = plan.planner.start, end = plan.planner.end

        // Series read from block chunks alone, grouped by the timestamp columns they read.
        var shapeOf = [Int](repeating: -1, count: n)
        var shapes: [TimestampShape] = []
        var shapeIndex: [[ColumnRef]: Int] = [:]
        for k in 0..<n {
            var refs: [ColumnRef] = []
            var chunks: [(block: Int, meta: ChunkMeta)] = []
            for step in plan.series[k].steps {
                guard case .decode(let bi, let m) = step else { refs = []; chunks = []; break }
                refs.append(ColumnRef(block: bi, offset: m.tsOffset, count: m.count))
                chunks.append((bi, m))
            }
            guard !chunks.isEmpty else { continue }
            if let s = shapeIndex[refs] { shapeOf[k] = s; continue }
            shapeIndex[refs] = shapes.count
            shapeOf[k] = shapes.count
            shapes.append(TimestampShape(chunks: chunks))
        }

        let workers = n >= 16 ? min(ProcessInfo.processInfo.activeProcessorCount, 8) : 1
        let errors = ErrorBox()
        // Each distinct timestamp column run once: decoded, cut to the range, divided.
        if !shapes.isEmpty { shapes.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let base = out.baseAddress!
            let count = out.count
            DispatchQueue.concurrentPerform(iterations: min(workers, count)) { w in
                var scratch: [UInt8] = [], decoded: [Int64] = []
                var i = w
                while i < count {
                    do {
                        try deadline.check()
                        try base[i].decode(snap, start: start, end: end, unit: unit, scratch: &scratch, decoded: &decoded)
                    } catch { errors.set(error); return }
                    i += workers
                }
            }
        } }
        if let e = errors.error { throw e }

        let decodedShapes = shapes, shapeOfSeries = shapeOf
        var perSeries = [SeriesResult?](repeating: nil, count: n)
        var workerStats = [QueryStats](repeating: QueryStats(), count: workers)
        perSeries.withUnsafeMutableBufferPointer { out in
            workerStats.withUnsafeMutableBufferPointer { statsOut in
                nonisolated(unsafe) let base = out.baseAddress
                nonisolated(unsafe) let statsBase = statsOut.baseAddress!
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    var reader = SeriesReader(snapshot: snap, plan: plan.planner, deadline: deadline)
                    var scratch: [UInt8] = [], decoded: [Double] = []
                    var local = QueryStats()
                    var k = w
                    while k < n {
                        do {
                            try deadline.check()
                            if shapeOfSeries[k] >= 0 {
                                let shape = decodedShapes[shapeOfSeries[k]]
                                let values = try shape.values(of: plan.series[k], snap, scratch: &scratch, decoded: &decoded)
                                local.chunksTotal += shape.chunks.count
                                local.chunksDecoded += shape.chunks.count
                                local.samplesScanned += shape.chunks.reduce(0) { $0 + $1.meta.count }
                                if !values.isEmpty { base![k] = SeriesResult(labels: snap.labels[k], timestamps: shape.timestamps, values: values) }
                            } else {
                                var o = try reader.read(k, plan.series[k])
                                local.add(o.stats)
                                if !o.timestamps.isEmpty {
                                    Self.divide(&o.timestamps, by: unit)
                                    base![k] = SeriesResult(labels: snap.labels[k], timestamps: o.timestamps, values: o.values)
                                }
                            }
                        } catch { errors.set(error); return }
                        k += workers
                    }
                    statsBase[w] = local
                }
            }
        }
        if let e = errors.error { throw e }

        var stats = QueryStats()
        stats.seriesMatched = n
        for s in workerStats { stats.add(s) }
        stats.blocksTouched = plan.blocks.count
        return try finishQuery(perSeries.compactMap { $0 }, query, stats: stats, started: started)
    }

    /// Timestamps divided by `unit`, rounded down, in place.
    static func divide(_ ts: inout [Int64], by unit: Int64) {
        guard unit != 1 else { return }
        ts.withUnsafeMutableBufferPointer { t in
            // Milliseconds (PromQL's clock) by a constant divisor, which compiles to a multiply
            // and shifts instead of a 64-bit division per timestamp.
            if unit == 1_000_000 {
                for i in t.indices { t[i] = floorDiv(t[i], 1_000_000) }
            } else {
                for i in t.indices { t[i] = floorDiv(t[i], unit) }
            }
        }
    }

    /// Appends `ts` divided by `unit`, rounded down (as ``divide(_:by:)``).
    static func appendDivided(_ ts: Slice<UnsafeBufferPointer<Int64>>, by unit: Int64, to out: inout [Int64]) {
        if unit == 1_000_000 {
            for t in ts { out.append(floorDiv(t, 1_000_000)) }
        } else {
            for t in ts { out.append(floorDiv(t, unit)) }
        }
    }
}

/// One timestamp column of a block chunk, as a series' read names it.
private struct ColumnRef: Hashable {
    var block: Int
    var offset: Int
    var count: Int
}

/// The timestamp columns one or more series read, in order: decoded once, cut to the query
/// range (the cut of each chunk kept, for the values), divided into the caller's unit.
private struct TimestampShape {
    let chunks: [(block: Int, meta: ChunkMeta)]
    var cuts: [Range<Int>] = []
    var timestamps: [Int64] = []

    init(chunks: [(block: Int, meta: ChunkMeta)]) { self.chunks = chunks }

    mutating func decode(_ snap: Snapshot, start: Int64, end: Int64, unit: Int64, scratch: inout [UInt8], decoded: inout [Int64]) throws {
        var out: [Int64] = []
        out.reserveCapacity(chunks.reduce(0) { $0 + $1.meta.count })
        cuts.reserveCapacity(chunks.count)
        for (bi, m) in chunks {
            try snap.blocks[bi].decodeTimestamps(m, into: &decoded, scratch: &scratch)
            decoded.withUnsafeBufferPointer { d in
                let t = UnsafeBufferPointer(rebasing: d[..<m.count])
                let lo = Snapshot.lowerBound(t, start), hi = Snapshot.upperBound(t, end)
                cuts.append(lo..<max(lo, hi))
                guard lo < hi else { return }
                if unit == 1 { out.append(contentsOf: t[lo..<hi]); return }
                TSDB.appendDivided(t[lo..<hi], by: unit, to: &out)
            }
        }
        timestamps = out
    }

    /// The values of a series that reads this shape's timestamp columns (its own chunks, in
    /// the same order), over the shape's cuts, in an array of their exact size.
    func values(of series: SeriesPlan, _ snap: Snapshot, scratch: inout [UInt8], decoded: inout [Double]) throws -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(timestamps.count)
        for (i, step) in series.steps.enumerated() where !cuts[i].isEmpty {
            guard case .decode(let bi, let m) = step else { continue }
            try snap.blocks[bi].decodeValues(m, needed: cuts[i], into: &decoded, scratch: &scratch)
            decoded.withUnsafeBufferPointer { d in out.append(contentsOf: d[cuts[i]]) }
        }
        return out
    }
}
