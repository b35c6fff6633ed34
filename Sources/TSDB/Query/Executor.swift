import Dispatch
import Foundation
import Primitives

extension TSDB {
    /// Runs a query against a consistent snapshot. Raw queries return every sample in
    /// range; aggregated ones return one point per bucket. Chunks that lie wholly inside a
    /// bucket answer from their summary without decoding.
    ///
    /// A query running longer than its timeout (``Query/timeout``, else
    /// ``TSDBOptions/queryTimeout``) stops between series or chunks and throws
    /// ``TSDBError/queryTimeout(limit:)``.
    public func query(_ query: Query) throws -> QueryResult {
        do {
            return try run(query, deadline: QueryDeadline(limit: query.timeout ?? options.queryTimeout))
        } catch TSDBError.queryTimeout(let limit) {
            engineMetrics.queryTimeouts.increment()
            logger.warning("query stopped at its deadline", metadata: ["limit_ns": "\(limit)", "metric": "\(query.metric ?? "*")"])
            throw TSDBError.queryTimeout(limit: limit)
        }
    }

    private func run(_ query: Query, deadline: QueryDeadline) throws -> QueryResult {
        let started = DispatchTime.now().uptimeNanoseconds
        let plan = try Planner(query: query, limits: query.limits ?? options.limits)
        let snap = try snapshot(query, deadline: deadline)
        var stats = QueryStats()
        stats.seriesMatched = snap.ids.count
        try plan.checkLimits(snap)

        // Each series is read independently (in parallel when there are many), then grouped.
        let n = snap.ids.count
        var perSeries = [SeriesOutcome](repeating: SeriesOutcome(), count: n)
        let workers = n >= 16 ? min(ProcessInfo.processInfo.activeProcessorCount, 8) : 1
        let errors = ErrorBox()
        perSeries.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var reader = SeriesReader(snapshot: snap, plan: plan, deadline: deadline)
                var k = w
                while k < n {
                    do { base[k] = try reader.read(k) } catch { errors.set(error); return }
                    k += workers
                }
            }
        }
        if let e = errors.error { throw e }
        for o in perSeries {
            stats.chunksTotal += o.stats.chunksTotal
            stats.chunksSummarized += o.stats.chunksSummarized
            stats.chunksDecoded += o.stats.chunksDecoded
            stats.chunksPruned += o.stats.chunksPruned
            stats.samplesScanned += o.stats.samplesScanned
            stats.headSeries += o.stats.headSeries
        }
        stats.blocksTouched = snap.blocks.filter { $0.record.maxTime >= plan.start && $0.record.minTime <= plan.end }.count

        var series: [SeriesResult] = []
        if let agg = plan.aggregation {
            if let groupBy = plan.groupBy {
                var groups: [Labels: BucketRun] = [:]
                var order: [Labels] = []
                for k in 0..<n where !perSeries[k].run.keys.isEmpty {
                    var key = snap.labels[k].keeping(groupBy)
                    if let metric = query.metric { key = Labels(key.pairs + [Label(Labels.metricName, metric)]) }
                    if groups[key] == nil { order.append(key); groups[key] = perSeries[k].run } else { groups[key]!.merge(perSeries[k].run) }
                }
                for key in order { series.append(plan.materialize(groups[key]!, labels: key, agg: agg)) }
            } else {
                for k in 0..<n where !perSeries[k].run.keys.isEmpty {
                    series.append(plan.materialize(perSeries[k].run, labels: snap.labels[k], agg: agg))
                }
            }
        } else {
            for k in 0..<n where !perSeries[k].timestamps.isEmpty {
                series.append(SeriesResult(labels: snap.labels[k], timestamps: perSeries[k].timestamps, values: perSeries[k].values))
            }
        }
        series.sort { $0.labels.canonicalBytes.lexicographicallyPrecedes($1.labels.canonicalBytes) }
        if let limit = query.limit, series.count > limit {
            throw TSDBError.resultLimitExceeded(limit: limit, series: series.count)
        }
        stats.seriesReturned = series.count
        stats.samplesReturned = series.reduce(0) { $0 + $1.timestamps.count }
        stats.durationNanos = Int64(DispatchTime.now().uptimeNanoseconds - started)
        engineMetrics.query.recordNanoseconds(stats.durationNanos)
        return QueryResult(series: series, stats: stats)
    }

    /// The plan a query would run, without reading any chunk.
    public func explain(_ query: Query) throws -> QueryPlan {
        let plan = try Planner(query: query, limits: query.limits ?? options.limits)
        let snap = try snapshot(query, deadline: QueryDeadline(limit: query.timeout ?? options.queryTimeout))
        var total = 0, summarizable = 0, decode = 0, pruned = 0, headSeries = 0, samples = 0
        for k in 0..<snap.ids.count {
            let (sources, p) = snap.sources(k, start: plan.start, end: plan.end)
            pruned += p
            var hasMemory = false
            for group in SeriesReader.overlapGroups(sources) {
                for src in group {
                    switch src {
                    case .chunk(_, let m):
                        total += 1
                        if group.count == 1, plan.canSummarize(m) { summarizable += 1 } else { decode += 1; samples += m.count }
                    case .memory:
                        hasMemory = true
                        samples += src.count
                    }
                }
            }
            if hasMemory { headSeries += 1 }
        }
        let blocks = snap.blocks.filter { $0.record.maxTime >= plan.start && $0.record.minTime <= plan.end }.map(\.record.id)
        return QueryPlan(steps: snap.steps, seriesMatched: snap.ids.count, blocks: blocks, chunksTotal: total,
                         chunksSummarizable: summarizable, chunksToDecode: decode, chunksPruned: pruned,
                         headSeries: headSeries, estimatedSamples: samples, aggregation: plan.aggregation?.rawValue,
                         step: plan.step, groupBy: plan.groupBy)
    }
}

private final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    func set(_ e: Error) { lock.withLock { if stored == nil { stored = e } } }
    var error: Error? { lock.withLock { stored } }
}

/// One series' share of a query result.
struct SeriesOutcome {
    var timestamps: [Int64] = []
    var values: [Double] = []
    var run = BucketRun()
    var stats = QueryStats()
}
