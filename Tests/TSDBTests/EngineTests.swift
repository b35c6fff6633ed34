import Foundation
import Testing
@testable import TSDB
import TelemetryTestSupport

@Suite("Engine")
struct EngineTests {
    @Test("raw round trip, last write wins, inclusive ranges, ascending order")
    func rawRoundTrip() async throws {
        let dir = TempDir()
        let db = try await TSDB.open(options(dir))
        let ref = try db.resolve(gpuLabels("DCGM_FI_DEV_GPU_UTIL", uuid: "GPU-a", host: "h1", gpu: 0))
        var batch = SampleBatch()
        for i in 0..<10 { batch.append(ref, t0 + Int64(i) * sec, Double(i)) }
        try await db.append(batch)
        // Duplicate timestamp: the later write wins; an out-of-order sample is merged in.
        var again = SampleBatch()
        again.append(ref, t0 + 3 * sec, 33)
        again.append(ref, t0 + 2 * sec + sec / 2, 2.5)
        try await db.append(again)
        var q = Query(metric: "DCGM_FI_DEV_GPU_UTIL", start: t0 + 2 * sec, end: t0 + 4 * sec)
        var r = try db.query(q)
        #expect(r.series.count == 1)
        #expect(r.series[0].timestamps == [t0 + 2 * sec, t0 + 2 * sec + sec / 2, t0 + 3 * sec, t0 + 4 * sec])
        #expect(r.series[0].values == [2, 2.5, 33, 4])
        // A one-instant window returns exactly that instant.
        q.start = t0 + 5 * sec; q.end = t0 + 5 * sec
        r = try db.query(q)
        #expect(r.series[0].timestamps == [t0 + 5 * sec])
        try await db.close()
    }

    @Test("samples older than the out-of-order window are refused and counted")
    func outOfOrderWindow() async throws {
        let dir = TempDir()
        var o = options(dir)
        o.outOfOrderWindow = 10 * sec
        let db = try await TSDB.open(o)
        let ref = try db.resolve(gpuLabels("M", uuid: "GPU-a", host: "h1", gpu: 0))
        var b = SampleBatch()
        b.append(ref, t0 + 100 * sec, 1)
        try await db.append(b)
        var late = SampleBatch()
        late.append(ref, t0 + 95 * sec, 2)   // inside the window
        late.append(ref, t0 + 50 * sec, 3)   // outside
        let res = try await db.append(late)
        #expect(res == AppendResult(appended: 1, outOfWindow: 1))
        let r = try db.query(Query(metric: "M"))
        #expect(r.series[0].values == [2, 1])
        try await db.close()
    }

    @Test("data survives reopen (WAL replay) and flush (blocks) with identical answers")
    func durability() async throws {
        let dir = TempDir()
        var g = SeededGenerator(seed: 11)
        var expected: [Labels: [(Int64, Double)]] = [:]
        do {
            let db = try await TSDB.open(options(dir))
            for gpu in 0..<4 {
                for metric in ["A", "B"] {
                    let l = gpuLabels(metric, uuid: "GPU-\(gpu)", host: "h\(gpu % 2)", gpu: gpu)
                    let ref = try db.resolve(l)
                    var b = SampleBatch()
                    for i in 0..<3000 {
                        let v = Double(Int.random(in: 0...10000, using: &g)) / 100
                        b.append(ref, t0 + Int64(i) * sec, v)
                        expected[l, default: []].append((t0 + Int64(i) * sec, v))
                    }
                    try await db.append(b)
                }
            }
            try await db.close()
        }
        func verify(_ db: TSDB) throws {
            let r = try db.query(Query())
            #expect(r.series.count == expected.count)
            for s in r.series {
                let e = expected[s.labels]!
                #expect(s.timestamps == e.map(\.0))
                #expect(s.values == e.map(\.1))
            }
        }
        let db = try await TSDB.open(options(dir))
        #expect(db.replayReport.samples == 24000)
        #expect(db.replayReport.problems.isEmpty)
        try verify(db)
        let f = try await db.flush()
        #expect(f.samplesSealed == 24000)
        try verify(db)
        #expect(try db.stats().headSamples == 0)
        try await db.close()
        let reopened = try await TSDB.open(options(dir))
        #expect(reopened.replayReport.samples == 0)
        try verify(reopened)
        #expect(try reopened.stats().samples == 24000)
        try await reopened.close()
        #expect(try TSDB.check(directory: dir.path).isClean)
    }

    @Test("matchers select by =, !=, =~ and !~, missing labels match empty")
    func matchers() async throws {
        let dir = TempDir()
        let db = try await TSDB.open(options(dir))
        var samples: [LabeledSample] = []
        for gpu in 0..<6 {
            let l = gpuLabels("U", uuid: "GPU-\(gpu)", host: "host-\(gpu / 3)", gpu: gpu, namespace: gpu % 2 == 0 ? "train" : nil)
            samples.append(LabeledSample(labels: l, timestamp: t0, value: Double(gpu)))
        }
        try await db.append(samples)
        func count(_ m: [String]) throws -> Int {
            try db.query(Query(metric: "U", matchers: m.map { try LabelMatcher(parsing: $0) })).series.count
        }
        #expect(try count(["Hostname=host-0"]) == 3)
        #expect(try count(["Hostname!=host-0"]) == 3)
        #expect(try count(["gpu=~\"[0-2]\""]) == 3)
        #expect(try count(["gpu!~\"[0-2]\""]) == 3)
        #expect(try count(["gpu=~1"]) == 1)          // anchored: not 10, 11…
        #expect(try count(["namespace=\"\""]) == 3)  // no namespace
        #expect(try count(["namespace=train"]) == 3)
        #expect(try count(["namespace!=train"]) == 3)
        #expect(try count(["Hostname=host-0", "namespace=train"]) == 2)
        #expect(try count(["UUID=\"GPU-\\\"; DROP TABLE series; --\""]) == 0)
        #expect(throws: TSDBError.self) { try LabelMatcher(parsing: "gpu=~[") }
        #expect(throws: TSDBError.self) { try LabelMatcher(parsing: "novalue") }
        try await db.close()
    }

    @Test("limits fail with a clear error")
    func limits() async throws {
        let dir = TempDir()
        let db = try await TSDB.open(options(dir))
        var samples: [LabeledSample] = []
        for gpu in 0..<20 {
            for i in 0..<10 { samples.append(LabeledSample(labels: gpuLabels("U", uuid: "GPU-\(gpu)", host: "h", gpu: gpu), timestamp: t0 + Int64(i) * sec, value: 1)) }
        }
        try await db.append(samples)
        var q = Query(metric: "U")
        q.limits = QueryLimits(maxSeries: 10, maxSamples: 1000)
        #expect(throws: TSDBError.seriesLimitExceeded(limit: 10, returned: 20)) { try db.query(q) }
        q.limits = QueryLimits(maxSeries: 100, maxSamples: 50)
        #expect(throws: TSDBError.self) { try db.query(q) }
        q.limits = nil
        q.limit = 5
        #expect(throws: TSDBError.resultLimitExceeded(limit: 5, series: 20)) { try db.query(q) }
        #expect(throws: TSDBError.self) { try db.query(Query(metric: "U", start: t0 + 10, end: t0)) }
        try await db.close()
    }
}
