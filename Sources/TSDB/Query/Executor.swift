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
    /// ``TSDBError/queryTimeout(limit:)``. A query whose plan is over its ``QueryLimits``
    /// is refused before anything is decoded.
    public func query(_ query: Query) throws -> QueryResult {
        try underDeadline(query) { try run(query, deadline: $0) }
    }

    /// Runs `body` under the query's deadline (``Query/timeout``, else
    /// ``TSDBOptions/queryTimeout``); a query stopped by it is counted and logged once here.
    func underDeadline(_ query: Query, _ body: (QueryDeadline) throws -> QueryResult) throws -> QueryResult {
        do {
            return try body(QueryDeadline(limit: query.timeout ?? options.queryTimeout))
        } catch TSDBError.queryTimeout(let limit) {
            engineMetrics.queryTimeouts.increment()
            logger.warning("query stopped at its deadline", metadata: ["limit_ns": "\(limit)", "metric": "\(query.metric ?? "*")"])
            throw TSDBError.queryTimeout(limit: limit)
        }
    }

    /// The plan a query runs: matchers resolved, snapshot taken, every series' steps decided.
    func executionPlan(_ query: Query, deadline: QueryDeadline, enforce: Bool = true) throws -> ExecutionPlan {
        let planner = try Planner(query: query, limits: query.limits ?? options.limits)
        let snap = try snapshot(query, deadline: deadline)
        return try planner.plan(snap, deadline: deadline, enforce: enforce)
    }

    private func run(_ query: Query, deadline: QueryDeadline) throws -> QueryResult {
        let started = DispatchTime.now().uptimeNanoseconds
        let plan = try executionPlan(query, deadline: deadline)
        let snap = plan.snapshot
        var stats = QueryStats()
        stats.seriesMatched = snap.ids.count

        // Each series is read independently (in parallel when there are many). Grouped
        // queries fold each series into its group's run in the worker that read it, so memory
        // holds groups × workers runs, not one run per series.
        let n = snap.ids.count
        let workers = n >= 16 ? min(ProcessInfo.processInfo.activeProcessorCount, 8) : 1
        let grouped = plan.groupOf
        var perSeries = [SeriesOutcome](repeating: SeriesOutcome(), count: grouped == nil ? n : 0)
        var perWorker = [[BucketRun]](repeating: [], count: workers)
        var workerStats = [QueryStats](repeating: QueryStats(), count: workers)
        let errors = ErrorBox()
        perSeries.withUnsafeMutableBufferPointer { out in
            perWorker.withUnsafeMutableBufferPointer { groupsOut in
                workerStats.withUnsafeMutableBufferPointer { statsOut in
                    nonisolated(unsafe) let base = out.baseAddress
                    nonisolated(unsafe) let groupBase = groupsOut.baseAddress!
                    nonisolated(unsafe) let statsBase = statsOut.baseAddress!
                    DispatchQueue.concurrentPerform(iterations: workers) { w in
                        var reader = SeriesReader(snapshot: snap, plan: plan.planner, deadline: deadline)
                        var runs = [BucketRun](repeating: BucketRun(), count: grouped == nil ? 0 : plan.groupLabels.count)
                        var local = QueryStats()
                        var k = w
                        while k < n {
                            do {
                                var o = try reader.read(k, plan.series[k])
                                local.add(o.stats)
                                if let grouped {
                                    if grouped[k] >= 0, !o.run.keys.isEmpty { runs[grouped[k]].merge(o.run) }
                                } else {
                                    o.stats = QueryStats()
                                    base![k] = o
                                }
                            } catch { errors.set(error); return }
                            k += workers
                        }
                        groupBase[w] = runs
                        statsBase[w] = local
                    }
                }
            }
        }
        if let e = errors.error { throw e }
        for s in workerStats { stats.add(s) }
        stats.blocksTouched = plan.blocks.count

        var series: [SeriesResult] = []
        if let agg = plan.planner.aggregation {
            if grouped != nil {
                for g in plan.groupLabels.indices {
                    var run = BucketRun()
                    for w in 0..<workers where !perWorker[w][g].keys.isEmpty { run.merge(perWorker[w][g]) }
                    if !run.keys.isEmpty { series.append(plan.planner.materialize(run, labels: plan.groupLabels[g], agg: agg)) }
                }
            } else {
                for k in 0..<n where !perSeries[k].run.keys.isEmpty {
                    series.append(plan.planner.materialize(perSeries[k].run, labels: snap.labels[k], agg: agg))
                }
            }
        } else {
            for k in 0..<n where !perSeries[k].timestamps.isEmpty {
                series.append(SeriesResult(labels: snap.labels[k], timestamps: perSeries[k].timestamps, values: perSeries[k].values))
            }
        }
        return try finishQuery(series, query, stats: stats, started: started)
    }

    /// The end every query path shares: the series in the order of their canonical label
    /// bytes (each key built once), the query's series limit, the returned counts and the
    /// duration, recorded in the engine's query timer.
    func finishQuery(_ unsorted: [SeriesResult], _ query: Query, stats: QueryStats, started: UInt64) throws -> QueryResult {
        var keyed = unsorted.map { (key: $0.labels.canonicalBytes, series: $0) }
        keyed.sort { $0.key.lexicographicallyPrecedes($1.key) }
        let series = keyed.map(\.series)
        if let limit = query.limit, series.count > limit {
            throw TSDBError.resultLimitExceeded(limit: limit, series: series.count)
        }
        var stats = stats
        stats.seriesReturned = series.count
        stats.samplesReturned = series.reduce(0) { $0 + $1.timestamps.count }
        stats.durationNanos = Int64(DispatchTime.now().uptimeNanoseconds - started)
        engineMetrics.query.recordNanoseconds(stats.durationNanos)
        return QueryResult(series: series, stats: stats)
    }

    /// The plan a query would run, without reading any chunk: the same ``ExecutionPlan``
    /// ``query(_:)`` executes, counted. A plan over its limits is shown, not refused: its
    /// estimates say which limit ``query(_:)`` would name.
    public func explain(_ query: Query) throws -> QueryPlan {
        let plan = try executionPlan(query, deadline: QueryDeadline(limit: query.timeout ?? options.queryTimeout), enforce: false)
        var total = 0, summarizable = 0, decode = 0, pruned = 0, headSeries = 0
        for p in plan.series {
            total += p.chunksTotal
            summarizable += p.chunksSummarizable
            decode += p.chunksToDecode
            pruned += p.chunksPruned
            if p.hasMemory { headSeries += 1 }
        }
        let planner = plan.planner
        return QueryPlan(steps: plan.snapshot.steps, seriesMatched: plan.snapshot.ids.count,
                         blocks: plan.blocks.map { plan.snapshot.blocks[$0].record.id }, chunksTotal: total,
                         chunksSummarizable: summarizable, chunksToDecode: decode, chunksPruned: pruned,
                         headSeries: headSeries, estimatedSamples: plan.samplesToDecode, seriesReturned: plan.seriesReturned,
                         estimatedResultBytes: plan.resultBytes, end: planner.end, aggregation: planner.aggregation?.rawValue,
                         step: planner.step, groupBy: planner.groupBy)
    }
}

final class ErrorBox: @unchecked Sendable {
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

extension QueryStats {
    /// Adds the reading counts of one series or worker (not the result counts).
    mutating func add(_ o: QueryStats) {
        chunksTotal += o.chunksTotal
        chunksSummarized += o.chunksSummarized
        chunksDecoded += o.chunksDecoded
        chunksPruned += o.chunksPruned
        samplesScanned += o.samplesScanned
        headSeries += o.headSeries
    }
}
