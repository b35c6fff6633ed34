import Foundation
import Testing
@testable import TSDB
import TelemetryTestSupport

/// Aggregates checked against values computed here, independently of the engine, both
/// from the head and from blocks (where whole-chunk buckets come from summaries).
@Suite("Aggregation")
struct AggregationTests {
    struct Point { var host: String; var gpu: Int; var t: Int64; var v: Double }

    static func dataset(seed: UInt64) -> [Point] {
        var g = SeededGenerator(seed: seed)
        var pts: [Point] = []
        for gpu in 0..<6 {
            let host = "host-\(gpu / 3)"
            var v = 50.0
            for i in 0..<2000 {
                v = max(0, min(100, v + Double(Int.random(in: -300...300, using: &g)) / 100))
                pts.append(Point(host: host, gpu: gpu, t: t0 + Int64(i) * sec + Int64.random(in: -2...2, using: &g) * 1_000_000, v: v))
            }
        }
        return pts
    }

    static func expected(_ values: [Double], _ times: [Int64], _ agg: Aggregation) -> Double {
        switch agg {
        case .avg: return values.reduce(0, +) / Double(values.count)
        case .min: return values.min()!
        case .max: return values.max()!
        case .sum: return values.reduce(0, +)
        case .count: return Double(values.count)
        case .first: return values[times.firstIndex(of: times.min()!)!]
        case .last: return values[times.lastIndex(of: times.max()!)!]
        default:
            let s = values.sorted()
            let pos = agg.quantile! * Double(s.count - 1)
            let lo = Int(pos.rounded(.down)), hi = min(lo + 1, s.count - 1)
            return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
        }
    }

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(a), abs(b)) }

    @Test("step aggregates per series and grouped by host match an independent computation",
          arguments: [false, true])
    func stepAggregates(flushed: Bool) async throws {
        let dir = TempDir()
        var o = options(dir)
        o.samplesPerChunk = 100
        let db = try await TSDB.open(o)
        let pts = Self.dataset(seed: 5)
        try await db.append(pts.map { LabeledSample(labels: gpuLabels("GPU_UTIL", uuid: "GPU-\($0.gpu)", host: $0.host, gpu: $0.gpu), timestamp: $0.t, value: $0.v) })
        if flushed { try await db.flush() }
        let start = t0 + 90 * sec, end = t0 + 1710 * sec
        let step = 300 * sec
        for agg in Aggregation.allCases {
            var q = Query(metric: "GPU_UTIL", start: start, end: end)
            q.step = step
            q.aggregation = agg
            // Per series.
            let r = try db.query(q)
            #expect(r.series.count == 6)
            for s in r.series {
                let gpu = Int(s.labels["gpu"]!)!
                let mine = pts.filter { $0.gpu == gpu && $0.t >= start && $0.t <= end }
                let buckets = Dictionary(grouping: mine) { TSDB.floorDiv($0.t, step) }
                #expect(s.timestamps == buckets.keys.sorted().map { $0 * step })
                for (i, key) in buckets.keys.sorted().enumerated() {
                    let b = buckets[key]!
                    let e = Self.expected(b.map(\.v), b.map(\.t), agg)
                    #expect(Self.close(s.values[i], e), "\(agg) gpu \(gpu) bucket \(key): \(s.values[i]) vs \(e)")
                }
            }
            // Grouped by host.
            q.groupBy = ["Hostname"]
            let g = try db.query(q)
            #expect(g.series.count == 2)
            for s in g.series {
                let host = s.labels["Hostname"]!
                #expect(s.labels.metric == "GPU_UTIL")
                let mine = pts.filter { $0.host == host && $0.t >= start && $0.t <= end }
                let buckets = Dictionary(grouping: mine) { TSDB.floorDiv($0.t, step) }
                for (i, key) in buckets.keys.sorted().enumerated() {
                    let b = buckets[key]!
                    #expect(Self.close(s.values[i], Self.expected(b.map(\.v), b.map(\.t), agg)), "\(agg) host \(host)")
                }
            }
        }
        if flushed {
            var q = Query(metric: "GPU_UTIL", start: start, end: end)
            q.step = step
            q.aggregation = .max
            let r = try db.query(q)
            #expect(r.stats.chunksSummarized > 0)
            #expect(r.stats.chunksDecoded > 0)  // chunks straddling bucket edges
            let plan = try db.explain(q)
            #expect(plan.chunksSummarizable == r.stats.chunksSummarized)
            #expect(plan.chunksToDecode == r.stats.chunksDecoded)
            #expect(plan.seriesMatched == 6)
        }
        try await db.close()
    }

    @Test("aggregation without a step gives one point per series at the start")
    func wholeRange() async throws {
        let dir = TempDir()
        let db = try await TSDB.open(options(dir))
        let pts = Self.dataset(seed: 9)
        try await db.append(pts.map { LabeledSample(labels: gpuLabels("T", uuid: "GPU-\($0.gpu)", host: $0.host, gpu: $0.gpu), timestamp: $0.t, value: $0.v) })
        try await db.flush()
        var q = Query(metric: "T", start: t0 - sec, end: t0 + 3000 * sec)
        q.aggregation = .max
        q.groupBy = ["Hostname"]
        let r = try db.query(q)
        #expect(r.series.count == 2)
        for s in r.series {
            #expect(s.timestamps == [t0 - sec])
            #expect(s.values[0] == pts.filter { $0.host == s.labels["Hostname"] }.map(\.v).max())
        }
        #expect(r.stats.chunksDecoded == 0)  // every chunk answered from its summary
        try await db.close()
    }
}
