import Benchmark
import Foundation
import TelemetryTestSupport
import TSDB

/// The engine's hot paths: series resolution, WAL record encoding, append and queries.
func engineBenchmarks() {
    // Series resolution: the label sets of the bench data set's shape (1,536 series), looked
    // up once they exist (every batch after the first), and created in a fresh database.
    let labels = (0..<1536).map { Labels(["__name__": "M\($0 % 12)", "UUID": "GPU-\($0 / 12)", "Hostname": "h\($0 / 96)"]) }
    Benchmark("TSDB resolve 1,536 existing series",
              configuration: .init(metrics: [.throughput, .wallClock], scalingFactor: .one)) { b in
        let dir = NSTemporaryDirectory() + "/bench-resolve-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = TSDBOptions(directory: dir)
        o.backgroundMaintenance = false
        o.fsync = .none
        guard let db = try? await TSDB.open(o), (try? db.resolve(labels)) != nil else { return }
        b.startMeasurement()
        for _ in b.scaledIterations { blackHole(try? db.resolve(labels)) }
        b.stopMeasurement()
        try? await db.close()
    }
    Benchmark("TSDB resolve 1,536 new series (fresh database)",
              configuration: .init(metrics: [.throughput, .wallClock], scalingFactor: .one, maxDuration: .seconds(5))) { b in
        for _ in b.scaledIterations {
            let dir = NSTemporaryDirectory() + "/bench-resolve-new-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var o = TSDBOptions(directory: dir)
            o.backgroundMaintenance = false
            o.fsync = .none
            guard let db = try? await TSDB.open(o) else { return }
            b.startMeasurement()
            blackHole(try? db.resolve(labels))
            b.stopMeasurement()
            try? await db.close()
        }
    }

    // WAL record encoding of one append's batch (1,536 series × 10 ticks), compressed as
    // the WAL writes it and raw.
    var walBatch = SampleBatch(capacity: 15_360)
    for tick in 0..<10 {
        for k in 0..<1536 { walBatch.append(SeriesRef(UInt32(k)), Int64(tick) * 1_000_000_000, Double(k % 100)) }
    }
    let batch = walBatch
    Benchmark("WAL record encode, LZ4 (15,360 samples)",
              configuration: .init(metrics: [.throughput, .wallClock], scalingFactor: .one)) { b in
        for _ in b.scaledIterations { blackHole(WALRecord.encode(batch)) }
    }
    Benchmark("WAL record encode, uncompressed (15,360 samples)",
              configuration: .init(metrics: [.throughput, .wallClock], scalingFactor: .one)) { b in
        for _ in b.scaledIterations { blackHole(WALRecord.encode(batch, compress: false)) }
    }

    // Engine: append of pre-parsed batches (1,536 series × 100 ticks = 153,600 samples per
    // iteration, the bench data set's shape), then raw and aggregate queries over it.
    Benchmark("TSDB append 153,600-sample batches (fsync=batch)",
              configuration: .init(metrics: [.throughput, .wallClock], scalingFactor: .one, maxDuration: .seconds(5))) { b in
        let dir = NSTemporaryDirectory() + "/bench-append-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = TSDBOptions(directory: dir)
        o.backgroundMaintenance = false
        guard let db = try? await TSDB.open(o) else { return }
        let labels = (0..<1536).map { Labels(["__name__": "M\($0 % 12)", "UUID": "GPU-\($0 / 12)", "Hostname": "h\($0 / 96)"]) }
        guard let refs = try? db.resolve(labels) else { return }
        var tick: Int64 = 0
        b.startMeasurement()
        for _ in b.scaledIterations {
            var batch = SampleBatch(capacity: 153_600)
            for _ in 0..<100 {
                for (k, r) in refs.enumerated() { batch.append(r, tick * 1_000_000_000, Double(k % 100)) }
                tick += 1
            }
            _ = try? await db.append(batch)
        }
        b.stopMeasurement()
        try? await db.close()
    }

    // Out-of-order writes (issue 9): a reverse-order backfill of one series in 500-sample
    // appends. Sorted runs merged like a binary counter make it O(n log n); compare with the
    // in-order append above per sample.
    Benchmark("TSDB append 200,000 descending samples of one series, 500 per append",
              configuration: .init(metrics: [.throughput, .wallClock], scalingFactor: .one, maxDuration: .seconds(5))) { b in
        for _ in b.scaledIterations {
            let dir = NSTemporaryDirectory() + "/bench-desc-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var o = TSDBOptions(directory: dir)
            o.backgroundMaintenance = false
            o.fsync = .none
            guard let db = try? await TSDB.open(o), let ref = try? db.resolve(Labels(["__name__": "desc"])) else { return }
            let base = WallClock.nanos() - 200_000 * 1_000_000
            b.startMeasurement()
            var i = 199_999
            while i >= 0 {
                var batch = SampleBatch(capacity: 500)
                for k in stride(from: i, through: max(0, i - 499), by: -1) { batch.append(ref, base + Int64(k) * 1_000_000, Double(k)) }
                _ = try? await db.append(batch)
                i -= 500
            }
            b.stopMeasurement()
            try? await db.close()
        }
    }

    Benchmark("TSDB query raw 1 series × 1 h (3,600 points) from a block",
              configuration: .init(metrics: [.throughput, .wallClock], scalingFactor: .one)) { b in
        guard let (db, dir) = await queryFixture() else { return }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let q = Query(metric: "M0", matchers: [try! LabelMatcher(parsing: "UUID=GPU-3")], start: 0, end: 3599 * 1_000_000_000)
        b.startMeasurement()
        for _ in b.scaledIterations { blackHole(try? db.query(q)) }
        b.stopMeasurement()
        try? await db.close()
    }

    Benchmark("TSDB query 1-minute avg of 8 GPUs × 2 h from a block",
              configuration: .init(metrics: [.throughput, .wallClock], scalingFactor: .one)) { b in
        guard let (db, dir) = await queryFixture() else { return }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var q = Query(metric: "M0", matchers: [try! LabelMatcher(parsing: "Hostname=h1")])
        q.step = 60 * 1_000_000_000
        q.aggregation = .avg
        b.startMeasurement()
        for _ in b.scaledIterations { blackHole(try? db.query(q)) }
        b.stopMeasurement()
        try? await db.close()
    }

    // The fleet's Q3 shape: one metric's max per host over every GPU, many series, few
    // samples each; what it measures is taking the snapshot and grouping, not decoding.
    Benchmark("TSDB query max by host over 48,000 series (4,000 hosts) from a block",
              configuration: .init(metrics: [.throughput, .wallClock], scalingFactor: .one, maxDuration: .seconds(10))) { b in
        guard let (db, dir) = await fleetFixture() else { return }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var q = Query(metric: "M0")
        q.aggregation = .max
        q.groupBy = ["Hostname"]
        b.startMeasurement()
        for _ in b.scaledIterations { blackHole(try? db.query(q)) }
        b.stopMeasurement()
        try? await db.close()
    }
}

/// 48,000 series of one metric (4,000 hosts × 12 GPUs), 8 samples each, sealed into a block.
func fleetFixture() async -> (TSDB, String)? {
    guard let (db, dir) = await benchDatabase("fleet") else { return nil }
    let labels = (0..<48_000).map {
        Labels(["__name__": "M0", "UUID": "GPU-\($0)", "gpu": "\($0 % 12)", "Hostname": "h\($0 / 12)", "modelName": "NVIDIA H100 80GB HBM3"])
    }
    guard let refs = try? db.resolve(labels) else { return nil }
    var batch = SampleBatch(capacity: refs.count * 8)
    for i in 0..<8 {
        for (k, r) in refs.enumerated() { batch.append(r, Int64(i) * 15_000_000_000, Double((k + i) % 90)) }
    }
    _ = try? await db.append(batch)
    _ = try? await db.flush()
    return (db, dir)
}

/// 1,536 series × 7,200 one-second samples, sealed into a block.
func queryFixture() async -> (TSDB, String)? {
    guard let (db, dir) = await benchDatabase("query") else { return nil }
    let labels = (0..<1536).map { Labels(["__name__": "M\($0 % 12)", "UUID": "GPU-\($0 / 12)", "Hostname": "h\($0 / 96)"]) }
    guard let refs = try? db.resolve(labels) else { return nil }
    var g = SeededGenerator(seed: 9)
    for block in 0..<72 {
        var batch = SampleBatch(capacity: 1536 * 100)
        for i in 0..<100 {
            let t = Int64(block * 100 + i) * 1_000_000_000
            for r in refs { batch.append(r, t, Double(Int.random(in: 0...100, using: &g))) }
        }
        _ = try? await db.append(batch)
    }
    _ = try? await db.flush()
    return (db, dir)
}

/// A fresh database in a temporary directory, no background maintenance, no fsync.
func benchDatabase(_ name: String) async -> (TSDB, String)? {
    let dir = NSTemporaryDirectory() + "/bench-\(name)-\(UUID().uuidString)"
    var o = TSDBOptions(directory: dir)
    o.backgroundMaintenance = false
    o.fsync = .none
    guard let db = try? await TSDB.open(o) else { return nil }
    return (db, dir)
}
