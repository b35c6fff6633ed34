import Benchmark
import Foundation
import Ingest
import TSDB

// One benchmark per hot path (CONVENTIONS.md). Codec benchmarks process one 1,024-sample
// chunk per inner iteration; `scalingFactor: .kilo` makes throughput read as chunks/s in
// thousands, so values/s = throughput × 1,024 × 1,000.
let chunk = 1024

struct Gen: RandomNumberGenerator {
    var s: UInt64
    mutating func next() -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func jitteredTimestamps() -> [Int64] {
    var g = Gen(s: 1)
    return (0..<chunk).map { Int64(1_752_871_354_000_000_000) + Int64($0) * 1_000_000_000 + Int64.random(in: -2...2, using: &g) * 1_000_000 }
}

/// Power draw in watts with 3 decimals, drifting smoothly (the decimal path).
func powerValues() -> [Double] {
    var g = Gen(s: 2)
    var p = 350.0
    return (0..<chunk).map { _ in
        p += Double(Int.random(in: -800...800, using: &g)) / 1000
        return (p * 1000).rounded() / 1000
    }
}

/// Values with no decimal form (the XOR path).
func noisyValues() -> [Double] {
    var g = Gen(s: 3)
    return (0..<chunk).map { _ in Double.random(in: 0..<1, using: &g) * 1e-3 + 0.1 / 3 }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.throughput, .wallClock], scalingFactor: .kilo,
                                           maxDuration: .seconds(2), maxIterations: 1_000_000)

    let ts = jitteredTimestamps()
    let power = powerValues()
    let noisy = noisyValues()
    let tsEncoded = TimestampCodec.encode(ts)
    let powerEncoded = ValueCodec.encode(power)
    let noisyEncoded = ValueCodec.encode(noisy)

    Benchmark("TimestampCodec encode (1024 jittered)") { b in
        for _ in b.scaledIterations { blackHole(TimestampCodec.encode(ts)) }
    }
    Benchmark("TimestampCodec decode (1024 jittered)") { b in
        var out = [Int64](repeating: 0, count: chunk)
        for _ in b.scaledIterations {
            tsEncoded.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer { _ = try? TimestampCodec.decode(raw, into: $0) } }
            blackHole(out[chunk - 1])
        }
    }
    Benchmark("ValueCodec encode scaled-decimal (1024)") { b in
        for _ in b.scaledIterations { blackHole(ValueCodec.encode(power)) }
    }
    Benchmark("ValueCodec decode scaled-decimal (1024)") { b in
        var out = [Double](repeating: 0, count: chunk)
        for _ in b.scaledIterations {
            powerEncoded.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer { _ = try? ValueCodec.decode(raw, into: $0) } }
            blackHole(out[chunk - 1])
        }
    }
    Benchmark("ValueCodec encode XOR (1024)") { b in
        for _ in b.scaledIterations { blackHole(ValueCodec.encode(noisy)) }
    }
    Benchmark("ValueCodec decode XOR (1024)") { b in
        var out = [Double](repeating: 0, count: chunk)
        for _ in b.scaledIterations {
            noisyEncoded.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer { _ = try? ValueCodec.decode(raw, into: $0) } }
            blackHole(out[chunk - 1])
        }
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

    // Network ingest (issue 13): 5,000 lines of DCGM line protocol (1,536 series, the bench
    // data's shape) parsed in place into a batch with every series already cached — the
    // write routes' work before `db.append`. Throughput reads as bodies/s; × 5,000 = lines/s.
    Benchmark("Line protocol parse to batch (5,000 lines, cached series)",
              configuration: .init(metrics: [.throughput, .wallClock, .mallocCountTotal], scalingFactor: .one, maxDuration: .seconds(5))) { b in
        let dir = NSTemporaryDirectory() + "/bench-lp-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = TSDBOptions(directory: dir)
        o.backgroundMaintenance = false
        guard let db = try? await TSDB.open(o) else { return }
        let t0: Int64 = 1_736_121_600_000
        let lines = (0..<5_000).map { i -> String in
            let s = i % 1536, gpu = s / 12
            return "DCGM_FI_DEV_M\(s % 12),Hostname=gpu-node-\(gpu / 8),device=nvidia\(gpu % 8),gpu_id=\(gpu % 8),"
                + "modelName=NVIDIA\\ H100\\ 80GB\\ HBM3,namespace=ml,pod=train-\(gpu / 8),uuid=GPU-\(gpu)-ba4159d2-b0ed-ec0e-bb3e "
                + "value=\(i % 97) \(t0 + Int64(i / 1536) * 1000)\n"
        }
        let body = Array(lines.joined().utf8)
        let builder = LineProtocolBatchBuilder()
        guard var warm = try? builder.parse(body, precision: .ms, now: 0), (try? builder.seal(&warm, db: db)) != nil else { return }
        b.startMeasurement()
        for _ in b.scaledIterations {
            guard var parsed = try? builder.parse(body, precision: .ms, now: 0) else { return }
            blackHole((try? builder.seal(&parsed, db: db))?.count ?? 0)
        }
        b.stopMeasurement()
        try? await db.close()
    }

    Benchmark("DCGM CSV parse (sample file, rows)",
              configuration: .init(metrics: [.throughput, .wallClock], scalingFactor: .one)) { b in
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/dcgm_metrics_20250718_134233.csv").path
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let bytes = [UInt8](data)
        for _ in b.scaledIterations {
            var parser = DCGMCSVParser()
            var n = 0
            bytes.withUnsafeBytes { raw in try? parser.feedRows(raw) { row in n &+= Int(row.timestamp & 1) } }
            try? parser.finishRows { _ in }
            blackHole(n)
        }
    }
}

/// 1,536 series × 7,200 one-second samples, sealed into a block.
func queryFixture() async -> (TSDB, String)? {
    let dir = NSTemporaryDirectory() + "/bench-query-\(UUID().uuidString)"
    var o = TSDBOptions(directory: dir)
    o.backgroundMaintenance = false
    o.fsync = .none
    guard let db = try? await TSDB.open(o) else { return nil }
    let labels = (0..<1536).map { Labels(["__name__": "M\($0 % 12)", "UUID": "GPU-\($0 / 12)", "Hostname": "h\($0 / 96)"]) }
    guard let refs = try? db.resolve(labels) else { return nil }
    var g = Gen(s: 9)
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
