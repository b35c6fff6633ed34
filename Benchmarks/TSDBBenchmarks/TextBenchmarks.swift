import Benchmark
import Primitives

/// RFC 3339 parsing and formatting (every CSV row, every JSON timestamp) and the byte-level
/// JSON writing of numbers and strings the API's bodies are made of.
func textBenchmarks() {
    let times = jitteredTimestamps()
    let texts = times.map { RFC3339.format($0) }
    let bytes = texts.map { Array($0.utf8) }
    Benchmark("RFC 3339 parse (1024 timestamps, ms precision)") { b in
        for _ in b.scaledIterations {
            var sum: Int64 = 0
            for t in bytes { t.withUnsafeBytes { sum &+= RFC3339.parse($0) ?? 0 } }
            blackHole(sum)
        }
    }
    Benchmark("RFC 3339 format (1024 timestamps)") { b in
        var out: [UInt8] = []
        out.reserveCapacity(chunk * RFC3339Formatter.maxLength)
        for _ in b.scaledIterations {
            out.removeAll(keepingCapacity: true)
            var f = RFC3339Formatter()
            for t in times { f.append(t, to: &out) }
            blackHole(out.count)
        }
    }

    let power = powerValues()
    let names = (0..<chunk).map { "GPU-\($0)-\"quoted\"\\path" }
    Benchmark("JSON write numbers (1024 doubles)") { b in
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk * 32)
        defer { out.deallocate() }
        for _ in b.scaledIterations {
            var n = 0
            for v in power { n += JSONFormat.writeNumber(v, to: out + n) }
            blackHole(n)
        }
    }
    Benchmark("JSON write strings (1024, with escapes)") { b in
        let utf8 = names.map { Array($0.utf8) }
        let capacity = utf8.reduce(0) { $0 + JSONFormat.quotedCapacity($1.count) }
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { out.deallocate() }
        for _ in b.scaledIterations {
            var n = 0
            for s in utf8 { n += s.withUnsafeBufferPointer { JSONFormat.writeQuoted($0, to: out + n) } }
            blackHole(n)
        }
    }
}
