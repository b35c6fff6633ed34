import Benchmark
import Ingest
import TSDB

/// The chunk codecs and the byte compressors of the WAL (LZ4) and remote_write (Snappy).
func codecBenchmarks() {
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

    // LZ4 (WAL records, block columns) and Snappy (remote_write bodies) over one WAL
    // record's raw bytes: 1,024 samples of 8 series, 20 bytes each.
    let raw = rawSampleBytes()
    let lz4 = LZ4.compress(raw) ?? []
    let snappy = Snappy.compress(raw)
    Benchmark("LZ4 compress (1024 samples, 20 KiB)") { b in
        for _ in b.scaledIterations { blackHole(LZ4.compress(raw)) }
    }
    Benchmark("LZ4 decompress (1024 samples, 20 KiB)") { b in
        for _ in b.scaledIterations { blackHole(try? lz4.withUnsafeBytes { try LZ4.decompress($0, rawCount: raw.count) }) }
    }
    Benchmark("Snappy compress (1024 samples, 20 KiB)") { b in
        for _ in b.scaledIterations { blackHole(Snappy.compress(raw)) }
    }
    Benchmark("Snappy decompress (1024 samples, 20 KiB)") { b in
        for _ in b.scaledIterations { blackHole(try? Snappy.decompress(snappy, limit: raw.count)) }
    }
}

/// The bytes a WAL sample record holds before compression: series ids, timestamps, values.
func rawSampleBytes() -> [UInt8] {
    var out: [UInt8] = []
    let ts = jitteredTimestamps()
    let power = powerValues()
    for i in 0..<chunk { withUnsafeBytes(of: UInt32(i % 8).littleEndian) { out.append(contentsOf: $0) } }
    for t in ts { withUnsafeBytes(of: t.littleEndian) { out.append(contentsOf: $0) } }
    for v in power { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
    return out
}
