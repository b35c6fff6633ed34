import Foundation
import Primitives
import Testing
@testable import TSDB

/// The head packs a series' older in-order samples (``HeadColumn/pack()``): what readers
/// see is exactly what was written — in order, out of order into the packed part, with
/// duplicates (last write wins) — and packing is what bounds the head's bytes per sample.
@Suite("Head packing")
struct HeadPackingTests {
    /// A seeded generator, so a failure names the case that reproduces it.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func inOrderSamplesPackAndReadBack() {
        var head = Head()
        head.ensure(1)
        var batch = SampleBatch()
        for i in 0..<1_000 { batch.append(SeriesRef(1), Int64(i) * 1_000_000_000, Double(i % 97) + 0.5) }
        head.append(batch)
        let c = head.columns[1]
        #expect(c.packedCount == 992 && c.timestamps.count == 8)
        #expect(c.needsFlattening)
        let flat = c.flattened()
        #expect(flat.timestamps == batch.timestamps && flat.values == batch.values)
        #expect(flat.count == 1_000 && head.samples == 1_000)
        // Far fewer bytes than 16 a sample.
        #expect(c.footprint < 1_000 * 6, "\(c.footprint) bytes")
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func outOfOrderIntoPackedPartMatchesAModel(seed: UInt64) {
        var rng = SplitMix(state: seed)
        var head = Head()
        head.ensure(3)
        var model: [Int64: Double] = [:]
        var t: Int64 = 0
        for round in 0..<60 {
            var batch = SampleBatch()
            for _ in 0..<Int.random(in: 1...80, using: &rng) {
                // Mostly in order; sometimes back into the packed past, sometimes a duplicate.
                let ts: Int64
                switch Int.random(in: 0..<10, using: &rng) {
                case 0: ts = Int64.random(in: 0...max(0, t), using: &rng)
                case 1: ts = t
                default: t += Int64.random(in: 1...3, using: &rng); ts = t
                }
                let v = Double(round) + Double(Int.random(in: 0..<1_000, using: &rng)) / 8
                batch.append(SeriesRef(3), ts, v)
            }
            // The engine hands the head non-decreasing time order per series (later wins).
            let order = batch.timestamps.indices.sorted { (batch.timestamps[$0], $0) < (batch.timestamps[$1], $1) }
            var sorted = SampleBatch()
            for i in order {
                sorted.append(SeriesRef(3), batch.timestamps[i], batch.values[i])
                model[batch.timestamps[i]] = batch.values[i]
            }
            head.append(sorted)
            let flat = head.columns[3].flattened()
            let keys = model.keys.sorted()
            #expect(flat.timestamps == keys, "seed \(seed) round \(round)")
            #expect(flat.values == keys.map { model[$0]! }, "seed \(seed) round \(round)")
            #expect(head.columns[3].count == keys.count && head.samples == keys.count, "seed \(seed) round \(round)")
        }
    }

    /// Through the engine: queries over a packed head, and the block sealed from it.
    @Test func queriesAndSealSeePackedSamples() async throws {
        let dir = NSTemporaryDirectory() + "head-packing-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = TSDBOptions(directory: dir)
        options.backgroundMaintenance = false
        let db = try await TSDB.open(options)
        let ref = try db.resolve(Labels(["__name__": "m", "gpu": "0"]))
        let base = WallClock.nanos() - 2_000 * Nanos.second
        var batch = SampleBatch()
        for i in 0..<2_000 { batch.append(ref, base + Int64(i) * Nanos.second, Double(i) * 0.25) }
        #expect(try await db.append(batch).appended == 2_000)
        // A rewrite into the packed past, last write wins.
        var fix = SampleBatch()
        fix.append(ref, base + 10 * Nanos.second, -1)
        #expect(try await db.append(fix).appended == 1)
        var expected = batch.values
        expected[10] = -1
        let before = try db.query(Query(metric: "m")).series
        #expect(before.first?.timestamps == batch.timestamps && before.first?.values == expected)
        _ = try await db.flush()
        let after = try db.query(Query(metric: "m")).series
        #expect(after.first?.timestamps == batch.timestamps && after.first?.values == expected)
        try await db.close()
    }
}
