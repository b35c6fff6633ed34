import Foundation
import Primitives
import Testing
@testable import TSDB
import TelemetryTestSupport

@Suite("Head stream (compressed older head samples)")
struct HeadStreamTests {
    /// Appends every sample to a stream and returns what it decodes to.
    static func roundTrip(_ ts: [Int64], _ vs: [Double]) -> (ts: [Int64], vs: [UInt64], stream: HeadStream) {
        var s = HeadStream()
        for i in ts.indices { s.append(ts[i], vs[i]) }
        var ots: [Int64] = [], ovs: [Double] = []
        s.decode(into: &ots, &ovs)
        return (ots, ovs.map(\.bitPattern), s)
    }

    @Test("jittered millisecond timestamps in nanoseconds and DCGM-like values round-trip in under 6 bytes a sample (raw: 16)")
    func dcgmLike() {
        var g = SeededGenerator(seed: 3)
        var ts: [Int64] = [], vs: [Double] = []
        var t: Int64 = 1_736_121_600_138 * 1_000_000
        for i in 0..<5_000 {
            t += 1_000_000_000 + Int64.random(in: -2...2, using: &g) * 1_000_000
            ts.append(t)
            vs.append(i % 7 == 0 ? Double(Int.random(in: 0...100, using: &g)) : Double(90 + i % 3))
        }
        let r = Self.roundTrip(ts, vs)
        #expect(r.ts == ts)
        #expect(r.vs == vs.map(\.bitPattern))
        #expect(r.stream.count == ts.count && r.stream.lastTime == ts.last)
        let bytesPerSample = Double(r.stream.footprint) / Double(ts.count)
        #expect(bytesPerSample < 6, "\(bytesPerSample) bytes a sample")
    }

    @Test("every bit pattern and every ascending timestamp step round-trips, wrapping deltas included")
    func extremes() {
        var g = SeededGenerator(seed: 11)
        let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan, Double(bitPattern: 0x7FF8_0000_0000_00AB),
                                  .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1, 1, 1]
        var ts: [Int64] = [Int64.min, Int64.min + 1, -5, 0, 7, 1_000_000, 1_000_000_000_000]
        while ts.count < specials.count + 300 { ts.append(ts[ts.count - 1] + Int64.random(in: 1...1 << 40, using: &g)) }
        ts.append(Int64.max - 1)
        ts.append(Int64.max)
        var vs = specials
        while vs.count < ts.count { vs.append(Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &g))) }
        let r = Self.roundTrip(ts, vs)
        #expect(r.ts == ts)
        #expect(r.vs == vs.map(\.bitPattern))
        // One and two samples.
        #expect(Self.roundTrip([42], [1.5]).ts == [42])
        #expect(Self.roundTrip([42, 43], [1.5, -2]).vs == [Double(1.5).bitPattern, Double(-2).bitPattern])
    }

    @Test("in-order appends keep at most 2 × rawTail samples raw and read back exactly")
    func columnStaysSmall() {
        var c = HeadColumn()
        var ts: [Int64] = [], vs: [Double] = []
        for i in 0..<10_000 {
            let t = Int64(i) * 1_000_000_000
            c.appendNewest(t, Double(i % 50))
            ts.append(t)
            vs.append(Double(i % 50))
            #expect(c.timestamps.count < 2 * HeadColumn.minRawTail)
        }
        #expect(c.count == ts.count && c.needsFlattening)
        let f = c.flattened()
        #expect(f.timestamps == ts && f.values == vs && !f.needsFlattening)
        #expect(c.footprint < ts.count * 8, "\(c.footprint) bytes for \(ts.count) samples, half of raw")
        #expect(c.timestamps.capacity < 4 * HeadColumn.minRawTail)
        #expect(c.rawTail == HeadColumn.minRawTail && c.unpacks == 0)
    }

    @Test("writes older than the stream unpack it, merge newest-wins, widen the raw tail, and stop compressing after maxUnpacks")
    func outOfOrderIntoStream() {
        var c = HeadColumn()
        var model: [Int64: Double] = [:]
        var work = 0
        for i in 0..<200 {
            c.appendNewest(Int64(i) * 10, Double(i))
            model[Int64(i) * 10] = Double(i)
        }
        #expect(c.stream.count > 0)
        // A late run that rewrites an old sample and adds one between two others.
        let fresh = c.insert(run: HeadRun(timestamps: [15, 20], values: [-1, -2]), work: &work)
        model[15] = -1
        model[20] = -2
        #expect(fresh == 1 && c.unpacks == 1 && c.stream.count == 0)
        #expect(c.rawTail == 2 * HeadColumn.minRawTail, "disorder doubles the raw tail")
        // Later in-order writes compress again; each late write into the stream costs an unpack.
        var next: Int64 = 2_000
        for round in 0..<Int(HeadColumn.maxUnpacks) + 2 {
            for _ in 0..<100 {
                c.appendNewest(next, Double(next))
                model[next] = Double(next)
                next += 10
            }
            let old = Int64(round * 10 + 3)
            _ = c.insert(run: HeadRun(timestamps: [old], values: [Double(old)]), work: &work)
            model[old] = Double(old)
        }
        #expect(c.unpacks == HeadColumn.maxUnpacks)
        #expect(c.stream.count == 0, "a column unpacked maxUnpacks times stays raw")
        let keys = model.keys.sorted()
        let f = c.flattened()
        #expect(f.timestamps == keys)
        #expect(f.values == keys.map { model[$0]! })
        #expect(c.count == keys.count)
    }

    @Test("a head of compressed columns answers queries, survives replay and seals exactly")
    func engineRoundTrip() async throws {
        let dir = TempDir()
        let o = options(dir)
        let start = WallClock.nanos() - 3_600 * Nanos.second
        let n = 2_000
        do {
            let db = try await TSDB.open(o)
            let refs = try (0..<4).map { try db.resolve(Labels(["__name__": "hs", "gpu": String($0)])) }
            // Two interleaved writers' worth of disorder: each batch of 50 ticks goes in after the next one.
            var batches: [SampleBatch] = []
            for b in stride(from: 0, to: n, by: 50) {
                var batch = SampleBatch()
                for i in b..<b + 50 { for (k, r) in refs.enumerated() { batch.append(r, start + Int64(i) * Nanos.second, Double(i * 4 + k)) } }
                batches.append(batch)
            }
            for p in stride(from: 0, to: batches.count, by: 2) {
                if p + 1 < batches.count { try await db.append(batches[p + 1]) }
                try await db.append(batches[p])
            }
            try Self.expectSeries(db, n: n, start: start)
            let compressed = db.state.withLock { s in s.head.columns.filter { $0.stream.count > 0 }.count }
            #expect(compressed == 4)
            try await db.close()
        }
        let db = try await TSDB.open(o)
        try Self.expectSeries(db, n: n, start: start)
        try await db.flush()
        try Self.expectSeries(db, n: n, start: start)
        try await db.close()
    }

    static func expectSeries(_ db: TSDB, n: Int, start: Int64) throws {
        let r = try db.query(Query(metric: "hs"))
        #expect(r.series.count == 4)
        for s in r.series {
            let k = Int(s.labels["gpu"] ?? "") ?? -1
            #expect(s.timestamps == (0..<n).map { start + Int64($0) * Nanos.second })
            #expect(s.values == (0..<n).map { Double($0 * 4 + k) })
        }
    }
}
