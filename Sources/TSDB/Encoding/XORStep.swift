/// Gorilla's XOR value step, shared by the XOR chunk codec (``ValueCodec``) and the head's
/// bit stream (``HeadStream``). Each value is written as its bits XOR the previous value's:
/// `0` when it repeats, `10` + the meaningful bits inside the previous leading/trailing
/// window, or `11` + 5 bits of leading zeros, 6 bits of length (0 meaning 64) and the
/// meaningful bits.
struct XORWriter: Sendable {
    // Int8 keeps the head's per-series state small; -1: no window yet.
    private var leading: Int8 = -1
    private var trailing: Int8 = 0

    /// Writes `x`, the value's bits XOR the previous value's.
    @inline(__always)
    mutating func write(_ x: UInt64, to w: inout BitWriter) {
        if x == 0 {
            w.writeBit(false)
            return
        }
        w.writeBit(true)
        let lz = min(x.leadingZeroBitCount, 31), tz = x.trailingZeroBitCount
        let prevLeading = Int(leading), prevTrailing = Int(trailing)
        if prevLeading >= 0, lz >= prevLeading, tz >= prevTrailing {
            w.writeBit(false)
            w.write(x >> UInt64(prevTrailing), bits: 64 - prevLeading - prevTrailing)
        } else {
            w.writeBit(true)
            let significant = 64 - lz - tz
            w.write(UInt64(lz), bits: 5)
            w.write(UInt64(significant == 64 ? 0 : significant), bits: 6)
            w.write(x >> UInt64(tz), bits: significant)
            leading = Int8(lz)
            trailing = Int8(tz)
        }
    }
}

/// Reads what ``XORWriter`` wrote. A `10` before any window reads 64 bits (leading and
/// trailing start at 0), and a window wider than 64 bits is malformed input, not a trap.
struct XORReader {
    private var leading = 0
    private var trailing = 0

    /// The next XOR (0 when the value repeats).
    @inline(__always)
    mutating func read(from r: inout BitReader) throws -> UInt64 {
        guard try r.readBit() else { return 0 }
        if try r.readBit() {
            leading = Int(try r.read(bits: 5))
            var significant = Int(try r.read(bits: 6))
            if significant == 0 { significant = 64 }
            trailing = 64 - leading - significant
            guard trailing >= 0 else { throw CodecError.malformed("XOR block overflows 64 bits") }
        }
        return try r.read(bits: 64 - leading - trailing) << UInt64(trailing)
    }
}
