import TelemetryTestSupport
import Foundation
import Primitives
import Testing
@testable import TSDB

/// The planner is the plan: `explain` reports the steps execution takes (issue 12).
@Suite("Planner")
struct PlannerTests {
    /// Two hosts × 2 GPUs × 3 metrics, 3 h at 10 s (two blocks), then an hour in the head with
    /// out-of-order samples landing on flushed time, so blocks, head and merges all appear.
    static func database(_ dir: TempDir) async throws -> TSDB {
        var o = options(dir)
        o.samplesPerChunk = 120
        o.outOfOrderWindow = 24 * Nanos.hour
        o.maxFuture = nil
        let db = try await TSDB.open(o)
        var batch: [LabeledSample] = []
        for host in 0..<2 {
            for gpu in 0..<2 {
                for metric in ["UTIL", "POWER", "TEMP"] {
                    let labels = gpuLabels(metric, uuid: "GPU-\(host)-\(gpu)", host: "h\(host)", gpu: gpu)
                    for i in 0..<1_080 { batch.append(LabeledSample(labels: labels, timestamp: t0 + Int64(i) * 10 * sec, value: Double((i + gpu) % 97))) }
                }
            }
        }
        try await db.append(batch)
        try await db.flush()
        batch = []
        for host in 0..<2 {
            for gpu in 0..<2 {
                let labels = gpuLabels("UTIL", uuid: "GPU-\(host)-\(gpu)", host: "h\(host)", gpu: gpu)
                for i in 1_080..<1_440 { batch.append(LabeledSample(labels: labels, timestamp: t0 + Int64(i) * 10 * sec, value: 1)) }
                // Rewrites of flushed time: their chunks must be merged with the head.
                for i in stride(from: 500, to: 520, by: 1) { batch.append(LabeledSample(labels: labels, timestamp: t0 + Int64(i) * 10 * sec, value: 2)) }
            }
        }
        try await db.append(batch)
        return db
    }

    static func queries() throws -> [(String, Query)] {
        func q(_ metric: String?, _ matchers: [String] = [], start: Int64 = .min, end: Int64 = .max,
               step: Int64? = nil, agg: Aggregation? = nil, groupBy: [String]? = nil, metrics: [String] = []) throws -> Query {
            var query = Query(metric: metric, matchers: try matchers.map { try LabelMatcher(parsing: $0) }, start: start, end: end)
            query.step = step
            query.aggregation = agg
            query.groupBy = groupBy
            query.metrics = metrics
            return query
        }
        return [
            ("raw everything", try q(nil)),
            ("raw one series", try q("UTIL", ["UUID=GPU-0-1"])),
            ("raw window across blocks and head", try q("UTIL", start: t0 + 3_000 * sec, end: t0 + 12_000 * sec)),
            ("1-min avg", try q("UTIL", step: 60 * sec, agg: .avg)),
            ("1-hour avg (summaries)", try q("UTIL", start: t0, end: t0 + 14_400 * sec, step: 3_600 * sec, agg: .avg)),
            ("10-min max per host", try q("UTIL", start: t0, end: t0 + 14_400 * sec, step: 600 * sec, agg: .max, groupBy: ["Hostname"])),
            ("fleet count", try q("POWER", agg: .count, groupBy: [])),
            ("p95 by gpu", try q("TEMP", ["Hostname=h1"], step: 1_800 * sec, agg: .p95, groupBy: ["gpu"])),
            ("metric set", try q(nil, ["Hostname=h0"], metrics: ["UTIL", "TEMP"])),
            ("regex matcher", try q("UTIL", ["UUID=~GPU-1-.*"], start: t0 + 100 * sec, end: t0 + 200 * sec)),
            ("nothing matches", try q("NOPE")),
            ("window before the data", try q("UTIL", start: 0, end: t0 - sec)),
        ]
    }

    @Test("explain and execution agree on a table of queries: same series, same sources, same work")
    func explainMatchesExecution() async throws {
        let dir = TempDir()
        let db = try await Self.database(dir)
        for (name, query) in try Self.queries() {
            let plan = try db.explain(query)
            let r = try db.query(query)
            #expect(plan.seriesMatched == r.stats.seriesMatched, "\(name)")
            #expect(plan.seriesReturned == r.stats.seriesReturned, "\(name)")
            #expect(plan.blocks.count == r.stats.blocksTouched, "\(name)")
            #expect(plan.chunksTotal == r.stats.chunksTotal, "\(name)")
            #expect(plan.chunksSummarizable == r.stats.chunksSummarized, "\(name)")
            #expect(plan.chunksToDecode == r.stats.chunksDecoded, "\(name)")
            #expect(plan.chunksPruned == r.stats.chunksPruned, "\(name)")
            #expect(plan.headSeries == r.stats.headSeries, "\(name)")
            #expect(plan.estimatedSamples == r.stats.samplesScanned, "\(name)")
        }
        // The table reaches every kind of step, so the agreement above covers them all.
        let all = try db.explain(Query())
        #expect(all.chunksTotal > 0 && all.headSeries > 0 && !all.blocks.isEmpty)
        let avg = try db.explain(try Self.queries()[4].1)
        #expect(avg.chunksSummarizable > 0 && avg.chunksToDecode > 0)
        try await db.close()
    }

    @Test("several metrics select as a set of names, not a regex")
    func metricSet() async throws {
        let dir = TempDir()
        let db = try await Self.database(dir)
        var q = Query(matchers: [try LabelMatcher(parsing: "UUID=GPU-0-0")])
        q.metrics = ["UTIL", "TEMP", "MISSING"]
        let r = try db.query(q)
        #expect(Set(r.series.compactMap(\.labels.metric)) == ["UTIL", "TEMP"])
        let plan = try db.explain(q)
        #expect(plan.steps.contains { $0.contains("__name__ in {") })
        #expect(!plan.steps.contains { $0.contains("=~") })
        // With `metric` too, the two must agree.
        q.metric = "POWER"
        #expect(try db.query(q).series.isEmpty)
        try await db.close()
    }

    @Test("a 1,000-sample page of a long window decodes about 1,000 samples, and is the window's first 1,000")
    func earliestSamplesPushdown() async throws {
        let dir = TempDir()
        let db = try await Self.database(dir)
        // The telemetry page's query: one GPU, two metrics, the whole window.
        var q = Query(matchers: [try LabelMatcher(parsing: "UUID=GPU-1-0")])
        q.metrics = ["UTIL", "POWER"]
        let full = try db.query(q)
        #expect(full.stats.samplesScanned > 2_500)
        q.earliestSamples = 1_001
        let page = try db.query(q)
        // Chunks hold 120 samples: a few partly used chunks per series past the page.
        #expect(page.stats.samplesScanned <= 1_001 + 2 + 4 * 120)
        #expect(page.stats.samplesScanned >= 1_001)
        let plan = try db.explain(q)
        #expect(plan.estimatedSamples == page.stats.samplesScanned)
        #expect(plan.end < Int64.max)
        // Whatever it returns is exactly the full answer up to the narrowed end.
        #expect(page.series.count == full.series.count)
        for (a, b) in zip(page.series, full.series) {
            #expect(a.labels == b.labels)
            let n = a.timestamps.count
            #expect(Array(b.timestamps.prefix(n)) == a.timestamps)
            #expect(Array(b.values.prefix(n)) == a.values)
            #expect(a.timestamps.last.map { $0 <= plan.end } ?? true)
        }
        #expect(page.series.reduce(0) { $0 + $1.timestamps.count } >= 1_001)
        // From a cursor deep in the window: the same bound.
        q.start = t0 + 9_000 * sec
        let later = try db.query(q)
        #expect(later.stats.samplesScanned <= 1_001 + 2 + 4 * 120)
        try await db.close()
    }
}
