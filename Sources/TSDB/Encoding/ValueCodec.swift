/// Float64 values, chosen per chunk: constant, scaled decimal integers, or XOR (Gorilla).
///
/// Layout: `varint n`, `u8 kind`, then
/// - kind 0 constant: `u64 bits` — every value has the same bit pattern.
/// - kind 1 scaled: `u8 exp`, `u8 order`, `svarint first`, (`svarint firstDelta` when order 2),
///   then the zigzag differences of order 1 or 2 of `value × 10^exp`, bit-packed
///   (``BitPacking``); order 0 packs `m − first` where `first` is the smallest.
///   Used only when `Double(m) / 10^exp` reproduces every value bit for bit, so it is lossless.
/// - kind 2 XOR: Gorilla's leading/trailing-zero XOR stream; lossless for every bit pattern
///   (NaN payloads, ±0, ±Inf, subnormals).
public enum ValueCodec {
    public enum Kind: UInt8, Sendable { case constant = 0, scaled = 1, xor = 2 }

    static let maxExponent = 15
    static let pow10: [Double] = (0...22).map { e in (0..<e).reduce(1.0) { acc, _ in acc * 10 } }
    static let exactLimit = 9_007_199_254_740_992.0  // 2^53

    /// Encodes, trying the decimal path first and keeping whichever is smaller.
    public static func encode(_ values: UnsafeBufferPointer<Double>, into out: inout [UInt8]) {
        let n = values.count
        out.appendVarint(UInt64(n))
        guard n > 0 else { return }
        let firstBits = values[0].bitPattern
        var constant = true
        for v in values where v.bitPattern != firstBits { constant = false; break }
        if constant {
            out.append(Kind.constant.rawValue)
            out.appendFixed(firstBits)
            return
        }
        var scaled: [UInt8]? = nil
        if let exp = decimalExponent(values) {
            var s: [UInt8] = []
            encodeScaled(values, exponent: exp, into: &s)
            scaled = s
        }
        var xor: [UInt8] = []
        encodeXOR(values, into: &xor)
        if let s = scaled, s.count <= xor.count {
            out.append(Kind.scaled.rawValue)
            out.append(contentsOf: s)
        } else {
            out.append(Kind.xor.rawValue)
            out.append(contentsOf: xor)
        }
    }

    public static func encode(_ values: [Double]) -> [UInt8] {
        var out: [UInt8] = []
        values.withUnsafeBufferPointer { encode($0, into: &out) }
        return out
    }

    /// The kind an encoded column uses (for explain and statistics).
    public static func kind(_ bytes: UnsafeRawBufferPointer) throws -> Kind? {
        var r = ByteReader(bytes)
        guard try r.varint() > 0 else { return nil }
        guard let k = Kind(rawValue: try r.byte()) else { throw CodecError.malformed("unknown value kind") }
        return k
    }

    /// Smallest exponent e ≤ 15 such that every value is exactly `Double(m) / 10^e` with
    /// |m| < 2^53; nil when there is none (NaN, ±Inf, −0, too many digits).
    static func decimalExponent(_ values: UnsafeBufferPointer<Double>) -> Int? {
        var exp = 0
        for v in values {
            guard v.isFinite, !(v == 0 && v.sign == .minus) else { return nil }
            // Values exact at exponent e stay exact at any larger one (same rational, same
            // correctly rounded quotient), so only ever raise the exponent.
            var e = exp
            while true {
                let m = (v * pow10[e]).rounded()
                if abs(m) < exactLimit, m / pow10[e] == v { break }
                e += 1
                if e > maxExponent { return nil }
            }
            exp = e
        }
        // Re-check every value at the final exponent (the magnitude bound may now fail).
        for v in values {
            let m = (v * pow10[exp]).rounded()
            guard abs(m) < exactLimit, m / pow10[exp] == v else { return nil }
        }
        return exp
    }

    static func encodeScaled(_ values: UnsafeBufferPointer<Double>, exponent: Int, into out: inout [UInt8]) {
        let n = values.count
        let scale = pow10[exponent]
        var m = [Int64](repeating: 0, count: n)
        for i in 0..<n { m[i] = Int64((values[i] * scale).rounded()) }
        var d1 = [UInt64](repeating: 0, count: max(0, n - 1))
        var d2 = [UInt64](repeating: 0, count: max(0, n - 2))
        for i in 1..<max(1, n) {
            let d = m[i] - m[i - 1]
            let z = ZigZag.encode(d)
            d1[i - 1] = z
            if i >= 2 {
                let dd = d - (m[i - 1] - m[i - 2])
                let zz = ZigZag.encode(dd)
                d2[i - 2] = zz
            }
        }
        // Order 0: the values minus the smallest (frame of reference), for noisy gauges
        // whose range is narrower than their jumps. The smallest encoding wins.
        let lo = m.min() ?? 0
        let offsets = m.map { UInt64($0 - lo) }
        let size0 = offsets.withUnsafeBufferPointer { BitPacking.packedSize($0) }
        let size1 = d1.withUnsafeBufferPointer { BitPacking.packedSize($0) }
        let size2 = n >= 2 ? d2.withUnsafeBufferPointer { BitPacking.packedSize($0) } + 4 : Int.max
        out.append(UInt8(exponent))
        if size0 < size1, size0 <= size2 {
            out.append(0)
            out.appendSignedVarint(lo)
            offsets.withUnsafeBufferPointer { BitPacking.pack($0, into: &out) }
        } else if size2 < size1 {
            out.append(2)
            out.appendSignedVarint(m[0])
            out.appendSignedVarint(m[1] - m[0])
            d2.withUnsafeBufferPointer { BitPacking.pack($0, into: &out) }
        } else {
            out.append(1)
            out.appendSignedVarint(m[0])
            d1.withUnsafeBufferPointer { BitPacking.pack($0, into: &out) }
        }
    }

    static func encodeXOR(_ values: UnsafeBufferPointer<Double>, into out: inout [UInt8]) {
        var w = BitWriter(reserving: values.count * 4)
        var prev = values[0].bitPattern
        w.write(prev, bits: 64)
        var xor = XORWriter()
        for i in 1..<values.count {
            let bits = values[i].bitPattern
            xor.write(bits ^ prev, to: &w)
            prev = bits
        }
        out.append(contentsOf: w.finish())
    }

    public static func count(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        var r = ByteReader(bytes)
        return try r.columnCount("value")
    }

    /// Decodes into `out` (at least ``count(_:)`` elements); returns the count.
    @discardableResult
    public static func decode(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Double>) throws -> Int {
        try decode(bytes, into: out, needed: 0..<Int.max)
    }

    /// Decodes the values at `needed` (clamped to the column) into their places in `out` (at
    /// least ``count(_:)`` elements); returns the column's count. Slots outside `needed` hold
    /// unspecified values. Decoding stops after the last needed value; values before the first
    /// are skipped by whole bit-packed groups where the encoding allows it (constant and
    /// order-0 columns), otherwise decoded but not converted.
    @discardableResult
    static func decode(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Double>, needed: Range<Int>) throws -> Int {
        var r = ByteReader(bytes)
        let n = try r.columnCount("values", fitting: out.count)
        guard n > 0 else { return 0 }
        let lo = min(max(0, needed.lowerBound), n), hi = max(lo, min(n, needed.upperBound))
        guard lo < hi else { return n }
        guard let kind = Kind(rawValue: try r.byte()) else { throw CodecError.malformed("unknown value kind") }
        switch kind {
        case .constant:
            let v = Double(bitPattern: try r.fixed(UInt64.self))
            (out.baseAddress! + lo).update(repeating: v, count: hi - lo)
        case .scaled:
            try decodeScaled(&r, n: n, lo: lo, hi: hi, into: out)
        case .xor:
            try decodeXOR(r.slice(r.remaining), n: hi, into: out)
        }
        return n
    }

    public static func decode(_ bytes: [UInt8]) throws -> [Double] {
        try bytes.withUnsafeBytes { raw throws in
            let n = try count(raw)
            var out = [Double](repeating: 0, count: n)
            try out.withUnsafeMutableBufferPointer { p throws in _ = try decode(raw, into: p) }
            return out
        }
    }

    /// Values `lo..<hi` of an `n`-value scaled column into `out[lo..<hi]`.
    private static func decodeScaled(_ r: inout ByteReader, n: Int, lo: Int, hi: Int, into out: UnsafeMutableBufferPointer<Double>) throws {
        let exp = Int(try r.byte())
        guard exp <= maxExponent else { throw CodecError.malformed("decimal exponent \(exp)") }
        let order = try r.byte()
        guard order <= 2 else { throw CodecError.malformed("difference order \(order)") }
        let first = try r.signedVarint()   // order 0: the frame of reference
        let firstDelta = order == 2 ? try r.signedVarint() : 0
        let skip = min(Int(order), n)
        let packedCount = n - skip
        let packed = try r.slice(r.remaining)
        let scale = pow10[exp]
        // Work in place: the output's 8-byte slots hold the unpacked integers (zigzags of the
        // differences, or offsets from the frame of reference), then the doubles.
        guard lo < hi else { return }
        try out.baseAddress!.withMemoryRebound(to: UInt64.self, capacity: n) { u throws in
            if order == 0 {
                // Frame of reference: each value stands alone, so only its groups are read.
                try BitPacking.unpack(packed, count: packedCount, needed: lo..<hi, into: u)
                u.withMemoryRebound(to: Int64.self, capacity: n) { m in
                    for i in lo..<hi { m[i] = first &+ Int64(bitPattern: u[i]) }
                }
                return
            }
            // Differences: every one up to the last needed value is summed.
            try BitPacking.unpack(packed, count: packedCount, needed: 0..<max(0, hi - skip), into: u + skip)
        }
        if order != 0 {
            // One pass sums the differences and writes the needed values as doubles, each
            // slot read as its zigzag before it is overwritten (raw loads and stores: the slots
            // change type as they go).
            let slots = UnsafeMutableRawPointer(out.baseAddress!)
            @inline(__always) func zigzag(_ i: Int) -> Int64 { ZigZag.decode(slots.load(fromByteOffset: i &* 8, as: UInt64.self)) }
            // Specialised per conversion: an integral column (exponent 0, most DCGM fields)
            // must not pay a division per value.
            @inline(__always) func sum(_ convert: (Int64) -> Double) {
                @inline(__always) func put(_ i: Int, _ v: Int64) { slots.storeBytes(of: convert(v), toByteOffset: i &* 8, as: Double.self) }
                var acc = first
                if lo == 0 { put(0, first) }
                if order == 1 {
                    for i in 1..<max(1, lo) { acc = acc &+ zigzag(i) }
                    for i in max(1, lo)..<hi { acc = acc &+ zigzag(i); put(i, acc) }
                } else if hi > 1 {
                    var delta = firstDelta
                    acc = first &+ firstDelta
                    if lo <= 1 { put(1, acc) }
                    for i in 2..<max(2, lo) { delta = delta &+ zigzag(i); acc = acc &+ delta }
                    for i in max(2, lo)..<hi { delta = delta &+ zigzag(i); acc = acc &+ delta; put(i, acc) }
                }
            }
            if exp == 0 { sum { Double($0) } } else { sum { Double($0) / scale } }
            return
        }
        out.baseAddress!.withMemoryRebound(to: Int64.self, capacity: n) { m in
            // Integral columns (the common DCGM case) skip the division.
            if exp == 0 {
                for i in lo..<hi { out[i] = Double(m[i]) }
            } else {
                for i in lo..<hi { out[i] = Double(m[i]) / scale }
            }
        }
    }

    private static func decodeXOR(_ bytes: UnsafeRawBufferPointer, n: Int, into out: UnsafeMutableBufferPointer<Double>) throws {
        var r = BitReader(bytes)
        var prev = try r.read(bits: 64)
        out[0] = Double(bitPattern: prev)
        var xor = XORReader()
        for i in 1..<n {
            prev ^= try xor.read(from: &r)
            out[i] = Double(bitPattern: prev)
        }
    }
}
