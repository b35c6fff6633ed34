import Benchmark
import TelemetryTestSupport

// One benchmark per hot function (CONVENTIONS.md), each file beside the area it measures:
// Codecs (timestamps, values, LZ4, Snappy), Engine (series resolution, WAL records, append,
// queries), Text (RFC 3339, JSON writing), CSV (DCGM parsing) and Ingest (line protocol to a batch). Codec benchmarks process one
// 1,024-sample chunk per inner iteration; `scalingFactor: .kilo` makes throughput read as
// chunks/s in thousands, so values/s = throughput × 1,024 × 1,000.
let chunk = 1024

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.throughput, .wallClock], scalingFactor: .kilo,
                                           maxDuration: .seconds(2), maxIterations: 1_000_000)
    codecBenchmarks()
    engineBenchmarks()
    textBenchmarks()
    csvBenchmarks()
    ingestBenchmarks()
}

func jitteredTimestamps() -> [Int64] {
    var g = SeededGenerator(seed: 1)
    return (0..<chunk).map { Int64(1_752_871_354_000_000_000) + Int64($0) * 1_000_000_000 + Int64.random(in: -2...2, using: &g) * 1_000_000 }
}

/// Power draw in watts with 3 decimals, drifting smoothly (the decimal path).
func powerValues() -> [Double] {
    var g = SeededGenerator(seed: 2)
    var p = 350.0
    return (0..<chunk).map { _ in
        p += Double(Int.random(in: -800...800, using: &g)) / 1000
        return (p * 1000).rounded() / 1000
    }
}

/// Values with no decimal form (the XOR path).
func noisyValues() -> [Double] {
    var g = SeededGenerator(seed: 3)
    return (0..<chunk).map { _ in Double.random(in: 0..<1, using: &g) * 1e-3 + 0.1 / 3 }
}
