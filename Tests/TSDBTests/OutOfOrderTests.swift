import Foundation
import Primitives
import Testing
@testable import TSDB
import TelemetryTestSupport

/// Out-of-order and descending writes: exact stored data, in one append, in many small ones
/// and after WAL replay, and a bound on the merge work (counted, not timed).
///
/// How the complexity was checked: `Head.mergeWork` counts every sample written by a run
/// merge and every duplicate probe. For n samples in runs of k it stays within
/// n·(log2(n/k) + 2) — O(n log n) — where the previous array insert moved O(n) samples per
/// out-of-order sample (n²/2 ≈ 2·10^10 moves for 200,000 descending samples).
@Suite("Out-of-order writes")
struct OutOfOrderTests {
    static let n = 200_000
    /// Near the wall clock (inside the out-of-order window and under `maxFuture`), 1 ms apart.
    static let base = WallClock.nanos() - Int64(n) * Nanos.millisecond

    static func descending(_ db: TSDB, _ ref: SeriesRef, chunk: Int) async throws {
        var i = n - 1
        while i >= 0 {
            var b = SampleBatch(capacity: chunk)
            let low = max(0, i - chunk + 1)
            for k in stride(from: i, through: low, by: -1) { b.append(ref, base + Int64(k) * Nanos.millisecond, Double(k)) }
            let r = try await db.append(b)
            #expect(r.appended == b.count && r.refused == 0)
            i = low - 1
        }
    }

    static func expectAll(_ db: TSDB, metric: String) throws {
        let r = try db.query(Query(metric: metric))
        #expect(r.series.count == 1)
        guard let s = r.series.first else { return }
        #expect(s.timestamps.count == n)
        let ts = (0..<n).map { base + Int64($0) * Nanos.millisecond }
        #expect(s.timestamps == ts)
        #expect(s.values == (0..<n).map(Double.init))
    }

    @Test("200,000 descending samples in one append are stored exactly, and survive replay")
    func oneDescendingAppend() async throws {
        let dir = TempDir()
        do {
            let db = try await TSDB.open(options(dir))
            let ref = try db.resolve(Labels(["__name__": "desc_one", "UUID": "GPU-d"]))
            try await Self.descending(db, ref, chunk: Self.n)
            try Self.expectAll(db, metric: "desc_one")
            // One batch sorted before the lock: no merge work at all.
            #expect(db.state.withLock { $0.head.mergeWork } == 0)
            #expect(try db.stats().headSamples == Self.n)
            try await db.close()
        }
        let db = try await TSDB.open(options(dir))
        try Self.expectAll(db, metric: "desc_one")
        try await db.flush()
        try Self.expectAll(db, metric: "desc_one")
        try await db.close()
    }

    @Test("200,000 descending samples in 500-sample appends: exact data, O(n log n) merge work, same after replay")
    func smallDescendingAppends() async throws {
        let dir = TempDir()
        do {
            let db = try await TSDB.open(options(dir))
            let ref = try db.resolve(Labels(["__name__": "desc_small", "UUID": "GPU-d"]))
            try await Self.descending(db, ref, chunk: 500)
            try Self.expectAll(db, metric: "desc_small")
            let work = db.state.withLock { $0.head.mergeWork }
            let bound = Double(Self.n) * (log2(Double(Self.n) / 500) + 2)
            #expect(Double(work) <= bound, "merge work \(work) over n·(log2(n/k)+2) = \(Int(bound))")
            #expect(try db.stats().headSamples == Self.n)
            try await db.close()
        }
        // WAL replay takes the same path (400 records of 500 descending samples).
        let db = try await TSDB.open(options(dir))
        try Self.expectAll(db, metric: "desc_small")
        #expect(Double(db.state.withLock { $0.head.mergeWork }) <= Double(Self.n) * (log2(Double(Self.n) / 500) + 2))
        try await db.close()
    }

    @Test("shuffled writes with duplicates match a reference model (last write wins)", arguments: [7, 8, 9] as [UInt64])
    func shuffledWithDuplicates(seed: UInt64) async throws {
        var g = SeededGenerator(seed: seed)
        let dir = TempDir()
        let db = try await TSDB.open(options(dir))
        let refs = try (0..<3).map { try db.resolve(Labels(["__name__": "shuf", "gpu": String($0)])) }
        var model: [[Int64: Double]] = Array(repeating: [:], count: refs.count)
        let now = WallClock.nanos()
        for round in 0..<60 {
            var b = SampleBatch()
            for _ in 0..<Int.random(in: 1...300, using: &g) {
                let s = Int.random(in: 0..<refs.count, using: &g)
                let t = now - Int64.random(in: 0..<5_000, using: &g) * Nanos.millisecond
                let v = Double(round * 1000 + Int.random(in: 0..<1000, using: &g))
                b.append(refs[s], t, v)
                model[s][t] = v
            }
            let r = try await db.append(b)
            #expect(r.refused == 0, "seed \(seed)")
        }
        let result = try db.query(Query(metric: "shuf"))
        for (s, ref) in refs.enumerated() {
            let labels = try #require(db.state.withLock { $0.index.labels(of: ref.id) })
            let series = try #require(result.series.first { $0.labels == labels }, "seed \(seed)")
            let keys = model[s].keys.sorted()
            #expect(series.timestamps == keys, "seed \(seed)")
            #expect(series.values == keys.map { model[s][$0]! }, "seed \(seed)")
        }
        #expect(try db.stats().headSamples == model.reduce(0) { $0 + $1.count }, "seed \(seed)")
        try await db.close()
    }

    @Test("a head column merges runs like a binary counter and flattens newest-wins")
    func columnRuns() {
        var c = HeadColumn()
        var work = 0
        _ = c.insert(run: HeadRun(timestamps: [10, 20, 30], values: [1, 2, 3]), work: &work)
        _ = c.insert(run: HeadRun(timestamps: [5, 20], values: [0.5, 22]), work: &work)
        let fresh = c.insert(run: HeadRun(timestamps: [1], values: [0.1]), work: &work)
        #expect(fresh == 1)
        #expect(c.count == 5)
        let f = c.flattened()
        #expect(f.timestamps == [1, 5, 10, 20, 30])
        #expect(f.values == [0.1, 0.5, 1, 22, 3])
        #expect(f.runs.isEmpty && f.maxTime == 30)
    }

    @Test("a batch that interleaves series out of time order is ordered per series, stably")
    func batchOrdering() {
        var b = SampleBatch()
        b.append(SeriesRef(2), 5, 1)
        b.append(SeriesRef(1), 9, 2)
        b.append(SeriesRef(2), 3, 3)
        b.append(SeriesRef(2), 3, 4)
        let o = b.orderedPerSeries()
        #expect(o.refs == [1, 2, 2, 2])
        #expect(o.timestamps == [9, 3, 3, 5])
        #expect(o.values == [2, 3, 4, 1])
        var ok = SampleBatch()
        ok.append(SeriesRef(1), 9, 0)
        ok.append(SeriesRef(2), 3, 0)
        ok.append(SeriesRef(1), 10, 0)
        #expect(ok.isPerSeriesOrdered())
    }
}
