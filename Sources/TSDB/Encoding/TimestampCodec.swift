/// Timestamps (Int64 nanoseconds) as delta-of-delta, with a constant-interval fast path.
///
/// Layout: `varint n`, then (n ≥ 1) `svarint first`, then (n ≥ 2) a mode byte:
/// - `0` constant interval: `svarint delta` — a regular scrape costs a few bytes per chunk.
/// - `1` delta-of-delta: `svarint firstDelta`, `u8 unitExp` (every delta is a multiple of
///   10^unitExp, so millisecond data stored in nanoseconds costs no extra bits), then n−2
///   zigzag delta-of-deltas divided by the unit, bit-packed (``BitPacking``).
/// - `2` delta frame of reference: `svarint minDelta` (in units), `u8 unitExp`, then n−1
///   deltas minus `minDelta`, bit-packed — steadier for jitter around an interval.
/// Lossless for every Int64 sequence (wrapping arithmetic), sorted or not.
public enum TimestampCodec {
    static let pow10: [Int64] = (0...18).map { e in (0..<e).reduce(Int64(1)) { acc, _ in acc * 10 } }

    public static func encode(_ ts: UnsafeBufferPointer<Int64>, into out: inout [UInt8]) {
        let n = ts.count
        out.appendVarint(UInt64(n))
        guard n > 0 else { return }
        out.appendSignedVarint(ts[0])
        guard n > 1 else { return }
        let firstDelta = ts[1] &- ts[0]
        var constant = true
        var overflow = ts[1].subtractingReportingOverflow(ts[0]).overflow
        for i in 2..<n {
            let (d, o) = ts[i].subtractingReportingOverflow(ts[i - 1])
            overflow = overflow || o
            if d != firstDelta { constant = false }
        }
        if constant {
            out.append(0)
            out.appendSignedVarint(firstDelta)
            return
        }
        // Largest power of ten dividing every delta (not applied when deltas wrap).
        var unit = 0
        if !overflow {
            var g: Int64 = 0
            for i in 1..<n { g = gcd(g, ts[i] &- ts[i - 1]) }
            while unit < 18, g != 0, g % pow10[unit + 1] == 0 { unit += 1 }
        }
        let div = pow10[unit]
        // Mode 1: zigzag delta-of-deltas. Mode 2: deltas minus the smallest delta (frame of
        // reference); better for jitter around a steady interval. The smaller one is kept.
        // Deltas in units, computed once for both candidates.
        var deltas = [Int64](repeating: 0, count: n - 1)
        for i in 1..<n { deltas[i - 1] = unit == 0 ? ts[i] &- ts[i - 1] : (ts[i] &- ts[i - 1]) / div }
        var zz = [UInt64](repeating: 0, count: n - 2)
        for i in 1..<deltas.count { zz[i - 1] = ZigZag.encode(deltas[i] &- deltas[i - 1]) }
        let minD = deltas.min() ?? 0, maxD = deltas.max() ?? 0
        let (_, rangeOverflow) = maxD.subtractingReportingOverflow(minD)
        if !rangeOverflow {
            let offsets = deltas.map { UInt64(bitPattern: $0 &- minD) }
            let size2 = offsets.withUnsafeBufferPointer { BitPacking.packedSize($0) }
            let size1 = zz.withUnsafeBufferPointer { BitPacking.packedSize($0) }
            if size2 < size1 {
                out.append(2)
                out.appendSignedVarint(minD)
                out.append(UInt8(unit))
                offsets.withUnsafeBufferPointer { BitPacking.pack($0, into: &out) }
                return
            }
        }
        out.append(1)
        out.appendSignedVarint(firstDelta)
        out.append(UInt8(unit))
        zz.withUnsafeBufferPointer { BitPacking.pack($0, into: &out) }
    }

    public static func encode(_ ts: [Int64]) -> [UInt8] {
        var out: [UInt8] = []
        ts.withUnsafeBufferPointer { encode($0, into: &out) }
        return out
    }

    /// Number of timestamps in an encoded column, read from its header.
    public static func count(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        var r = ByteReader(bytes)
        return try r.columnCount("timestamp")
    }

    /// Decodes into `out`, which must hold at least ``count(_:)`` elements; returns the count.
    @discardableResult
    public static func decode(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Int64>) throws -> Int {
        var r = ByteReader(bytes)
        let n = try r.columnCount("timestamps", fitting: out.count)
        guard n > 0 else { return 0 }
        out[0] = try r.signedVarint()
        guard n > 1 else { return 1 }
        let mode = try r.byte()
        let firstDelta = try r.signedVarint()  // mode 2: the smallest delta
        switch mode {
        case 0:
            var t = out[0]
            for i in 1..<n {
                t = t &+ firstDelta
                out[i] = t
            }
        case 1:
            let unit = Int(try r.byte())
            guard unit <= 18 else { throw CodecError.malformed("timestamp unit exponent \(unit)") }
            out[1] = out[0] &+ firstDelta
            guard n > 2 else { return n }
            let packed = try r.slice(r.remaining)
            // Unpack the zigzags into out[2...] in place, then integrate.
            try out.baseAddress!.advanced(by: 2).withMemoryRebound(to: UInt64.self, capacity: n - 2) { p throws in
                try BitPacking.unpack(packed, count: n - 2, into: p)
            }
            let div = pow10[unit]
            var delta = unit == 0 ? firstDelta : firstDelta / div
            var t = out[1]
            for i in 2..<n {
                delta = delta &+ ZigZag.decode(UInt64(bitPattern: out[i]))
                t = t &+ (unit == 0 ? delta : delta &* div)
                out[i] = t
            }
        case 2:
            let unit = Int(try r.byte())
            guard unit <= 18 else { throw CodecError.malformed("timestamp unit exponent \(unit)") }
            let packed = try r.slice(r.remaining)
            try out.baseAddress!.advanced(by: 1).withMemoryRebound(to: UInt64.self, capacity: n - 1) { p in
                try BitPacking.unpack(packed, count: n - 1, into: p)
            }
            let div = pow10[unit]
            var t = out[0]
            for i in 1..<n {
                let d = firstDelta &+ Int64(bitPattern: UInt64(bitPattern: out[i]))
                t = t &+ (unit == 0 ? d : d &* div)
                out[i] = t
            }
        default:
            throw CodecError.malformed("unknown timestamp mode \(mode)")
        }
        return n
    }

    public static func decode(_ bytes: [UInt8]) throws -> [Int64] {
        try bytes.withUnsafeBytes { raw throws in
            let n = try count(raw)
            var out = [Int64](repeating: 0, count: n)
            try out.withUnsafeMutableBufferPointer { p throws in _ = try decode(raw, into: p) }
            return out
        }
    }

    private static func gcd(_ a: Int64, _ b: Int64) -> Int64 {
        var x = a.magnitude, y = b.magnitude
        while y != 0 { (x, y) = (y, x % y) }
        return Int64(truncatingIfNeeded: x)
    }
}
