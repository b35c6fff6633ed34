import TelemetryTestSupport
import Foundation
import Primitives
import Testing
@testable import TSDB

/// Limits bound the work a query does and the answer it builds, not the series an
/// aggregation folds (issue 13).
@Suite("Query limits")
struct QueryLimitsTests {
    /// More series than the old matched-series limit (50,000), 4 samples each.
    static let fleetSeries = 52_000

    @Test("a fleet-wide aggregate over more series than the old 50,000 limit runs under the defaults")
    func fleetAggregateRuns() async throws {
        let dir = TempDir()
        let db = try await TSDB.open(options(dir))
        var samples: [LabeledSample] = []
        samples.reserveCapacity(Self.fleetSeries * 4)
        for s in 0..<Self.fleetSeries {
            let labels = Labels(["__name__": "UTIL", "UUID": "GPU-\(s)", "Hostname": "host-\(s / 8)", "gpu": String(s % 8)])
            for i in 0..<4 { samples.append(LabeledSample(labels: labels, timestamp: t0 + Int64(i) * 15 * sec, value: Double(s % 100))) }
        }
        try await db.append(samples)
        var q = Query(metric: "UTIL")
        q.aggregation = .count
        q.groupBy = []
        let r = try db.query(q)
        #expect(r.stats.seriesMatched == Self.fleetSeries)
        #expect(r.series.count == 1)
        #expect(r.series.first?.values == [Double(Self.fleetSeries * 4)])

        // Grouped per host (6,500 groups): the answer is what counts, not what it folds.
        q.aggregation = .max
        q.groupBy = ["Hostname"]
        q.limits = QueryLimits(maxSeries: 10_000)
        let perHost = try db.query(q)
        #expect(perHost.series.count == Self.fleetSeries / 8)
        #expect(perHost.stats.seriesReturned == Self.fleetSeries / 8)

        // The same series raw, over a returned-series limit, are refused before decoding.
        var raw = Query(metric: "UTIL")
        raw.limits = QueryLimits(maxSeries: 10_000)
        #expect(throws: TSDBError.seriesLimitExceeded(limit: 10_000, returned: Self.fleetSeries)) { try db.query(raw) }
        try await db.close()
    }

    static func dataset(_ db: TSDB, series: Int = 4, samples: Int = 2_000) async throws {
        var batch: [LabeledSample] = []
        for s in 0..<series {
            let labels = gpuLabels("POWER", uuid: "GPU-\(s)", host: "h\(s % 2)", gpu: s)
            for i in 0..<samples { batch.append(LabeledSample(labels: labels, timestamp: t0 + Int64(i) * sec, value: Double(i % 300))) }
        }
        try await db.append(batch)
    }

    @Test("a query that would decode too much is refused naming max_samples and its flag; summaries are free")
    func decodeLimit() async throws {
        let dir = TempDir()
        var o = options(dir)
        o.samplesPerChunk = 100
        let db = try await TSDB.open(o)
        try await Self.dataset(db)
        try await db.flush()
        var q = Query(metric: "POWER")
        q.limits = QueryLimits(maxSamples: 5_000)
        do {
            _ = try db.query(q)
            Issue.record("a raw query over 8,000 samples ran under a 5,000-sample limit")
        } catch let e as TSDBError {
            #expect(e == .sampleLimitExceeded(limit: 5_000, estimated: 8_000))
            #expect(e.description.contains("max_samples") && e.description.contains("--max-samples"))
        }
        // Explain shows the refused plan and the estimate that refuses it.
        #expect(try db.explain(q).estimatedSamples == 8_000)
        // Chunks inside one bucket answer from their summaries: a wide aggregate decodes
        // only the chunks straddling bucket edges and runs under the same limit.
        q.aggregation = .avg
        q.step = 1_000 * sec
        let r = try db.query(q)
        #expect(r.stats.samplesScanned <= 5_000)
        #expect(r.stats.chunksSummarized > 0)
        #expect(r.series.count == 4)
        try await db.close()
    }

    @Test("a query whose answer would take too much memory is refused naming max_result_bytes and its flag")
    func resultBytesLimit() async throws {
        let dir = TempDir()
        let db = try await TSDB.open(options(dir))
        try await Self.dataset(db)
        var q = Query(metric: "POWER")
        q.limits = QueryLimits(maxResultBytes: 64 * 1024)
        do {
            _ = try db.query(q)
            Issue.record("a raw answer of 8,000 samples (128 KB) fit a 64 KiB limit")
        } catch let e as TSDBError {
            guard case .resultBytesLimitExceeded(let limit, let estimated) = e else { Issue.record("wrong error \(e)"); return }
            #expect(limit == 64 * 1024)
            #expect(estimated >= 8_000 * 16)
            #expect(e.description.contains("max_result_bytes") && e.description.contains("--max-result-bytes"))
        }
        // Per-second buckets of every series are as big an answer as the samples: refused.
        q.step = sec
        q.aggregation = .avg
        #expect(throws: TSDBError.self) { try db.query(q) }
        // One-minute averages of the same data are a small answer and run.
        q.step = 60 * sec
        q.aggregation = .avg
        #expect(try db.query(q).series.count == 4)
        try await db.close()
    }

    @Test("a cheap query is unaffected by the limits")
    func cheapQuery() async throws {
        let dir = TempDir()
        let db = try await TSDB.open(options(dir))
        try await Self.dataset(db, samples: 100)
        var q = Query(metric: "POWER", matchers: [try LabelMatcher(parsing: "UUID=GPU-1")], start: t0, end: t0 + 9 * sec)
        q.limits = QueryLimits(maxSeries: 1, maxSamples: 100, maxResultBytes: 4096)
        let r = try db.query(q)
        #expect(r.series.count == 1)
        #expect(r.series.first?.timestamps == (0..<10).map { t0 + Int64($0) * sec })
        #expect(r.series.first?.values == (0..<10).map(Double.init))
        try await db.close()
    }
}
