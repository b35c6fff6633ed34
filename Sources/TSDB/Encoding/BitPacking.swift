/// Fixed-width bit packing of unsigned integers, LSB-first in little-endian 64-bit words.
/// Fixed width makes decoding a branch-light loop (the scaled-integer fast path).
enum BitPacking {
    /// Bits needed for the largest value (0 when all are zero).
    @inline(__always)
    static func width(ofMax maxValue: UInt64) -> Int { maxValue == 0 ? 0 : 64 - maxValue.leadingZeroBitCount }

    /// Bytes `pack` appends for `count` values at `width` bits, rounded up to whole words.
    static func packedSize(count: Int, width: Int) -> Int { ((count * width + 63) / 64) * 8 }

    static func pack(_ values: UnsafeBufferPointer<UInt64>, width: Int, into out: inout [UInt8]) {
        guard width > 0, !values.isEmpty else { return }
        let words = (values.count * width + 63) / 64
        var packed = [UInt64](repeating: 0, count: words)
        packed.withUnsafeMutableBufferPointer { w in
            var bit = 0
            for v in values {
                let word = bit >> 6, shift = bit & 63
                w[word] |= v << UInt64(shift)
                if shift + width > 64 { w[word + 1] |= v >> UInt64(64 - shift) }
                bit += width
            }
        }
        for word in packed { out.appendFixed(word) }
    }

    /// Unpacks `count` values of `width` bits from `src` into `out`.
    static func unpack(_ src: UnsafeRawBufferPointer, count: Int, width: Int, into out: UnsafeMutablePointer<UInt64>) throws {
        guard count > 0 else { return }
        guard width > 0 else {
            out.update(repeating: 0, count: count)
            return
        }
        guard width <= 64 else { throw CodecError.malformed("bit width \(width) over 64") }
        let words = (count * width + 63) / 64
        guard src.count >= words * 8 else { throw CodecError.truncated }
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
        let base = src.baseAddress!
        @inline(__always) func word(_ i: Int) -> UInt64 { UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self)) }
        var bit = 0
        // All but the last value may read one word ahead safely only when it exists; the
        // common case (values that do not straddle the end) runs without that check.
        for i in 0..<count {
            let w = bit &>> 6, shift = bit & 63
            var v = word(w) &>> UInt64(shift)
            if shift &+ width > 64 { v |= word(w &+ 1) &<< UInt64(64 &- shift) }
            out[i] = v & mask
            bit &+= width
        }
    }
}
