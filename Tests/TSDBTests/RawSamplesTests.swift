import TelemetryTestSupport
import Foundation
import Primitives
import Testing
@testable import TSDB

/// `rawSamples(_:timeUnit:)`, the PromQL evaluator's fetch: the answer of `query(_:)` with
/// timestamps divided, its timestamp columns decoded once per scrape.
@Suite("Raw samples")
struct RawSamplesTests {
    @Test("equals query(_:) with every timestamp divided, over blocks, head and merged sources", arguments: [Int64(1), 7, 1_000_000])
    func equalsQuery(unit: Int64) async throws {
        let dir = TempDir()
        let db = try await PlannerTests.database(dir)
        let raw = try PlannerTests.queries().filter { $0.1.aggregation == nil && $0.1.step == nil && $0.1.groupBy == nil }
        #expect(raw.count >= 5)
        for (name, query) in raw {
            let want = try db.query(query)
            let got = try db.rawSamples(query, timeUnit: unit)
            #expect(got.series.count == want.series.count, "\(name)")
            for (g, w) in zip(got.series, want.series) {
                #expect(g.labels == w.labels, "\(name)")
                #expect(g.timestamps == w.timestamps.map { TSDB.floorDiv($0, unit) }, "\(name) \(g.labels)")
                #expect(g.values.map(\.bitPattern) == w.values.map(\.bitPattern), "\(name) \(g.labels)")
            }
            #expect(got.stats.seriesMatched == want.stats.seriesMatched, "\(name)")
            #expect(got.stats.samplesReturned == want.stats.samplesReturned, "\(name)")
            #expect(got.stats.chunksDecoded == want.stats.chunksDecoded, "\(name)")
        }
        try await db.close()
    }

    @Test("series of one scrape share one timestamps array; a series merged with the head has its own")
    func sharedTimestamps() async throws {
        let dir = TempDir()
        let db = try await PlannerTests.database(dir)
        // Block time only: every metric of a GPU was written with the same timestamps.
        let q = Query(matchers: [try LabelMatcher(parsing: "UUID=GPU-0-0")], start: t0, end: t0 + 3_000 * sec)
        let r = try db.rawSamples(q, timeUnit: 1_000_000)
        #expect(r.series.count == 3)
        let bases = r.series.map { $0.timestamps.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
        #expect(Set(bases).count == 1, "the three metrics of GPU-0-0 should read one shared array")
        #expect(r.series.allSatisfy { $0.timestamps.count == 301 })
        // UTIL has head samples rewriting flushed time (t0 + 5,000 s …): merged, not shared.
        let m = Query(matchers: [try LabelMatcher(parsing: "UUID=GPU-0-0")], start: t0 + 4_000 * sec, end: t0 + 6_000 * sec)
        let merged = try db.rawSamples(m, timeUnit: 1_000_000)
        let util = try #require(merged.series.first { $0.labels.metric == "UTIL" })
        let other = try #require(merged.series.first { $0.labels.metric == "TEMP" })
        #expect(util.timestamps == other.timestamps)
        // Sample 100 of the window is t0 + 5,000 s: the head's rewrite (2) against TEMP's own.
        #expect(util.values[100] == 2 && other.values[100] == Double(500 % 97))
        let ub = util.timestamps.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        let ob = other.timestamps.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        #expect(ub != ob)
        try await db.close()
    }

    @Test("aggregations, steps, grouping and a zero unit are refused")
    func refusesNonRaw() async throws {
        let dir = TempDir()
        let db = try await PlannerTests.database(dir)
        var q = Query(metric: "UTIL")
        q.aggregation = .avg
        #expect(throws: TSDBError.self) { try db.rawSamples(q, timeUnit: 1) }
        q = Query(metric: "UTIL")
        #expect(throws: TSDBError.self) { try db.rawSamples(q, timeUnit: 0) }
        q.groupBy = []
        #expect(throws: TSDBError.self) { try db.rawSamples(q, timeUnit: 1) }
        try await db.close()
    }
}
