/// The older in-order samples of one head column, compressed as they are appended, so the
/// head holds a few bytes a sample instead of 16 (a timestamp and a value, raw).
///
/// One bit stream, MSB-first (``BitWriter``), a sample at a time, no frames and no
/// temporary arrays on the write path:
/// - sample 0: 64 bits timestamp, 64 bits value;
/// - sample 1: 64 bits delta, 4 bits `unitExp` (the largest power of ten up to 10^6 that
///   divides that delta: millisecond data stored in nanoseconds), then the value as below;
/// - later samples: the delta-of-delta `dod` — `0` when it is 0, else, when it is a multiple
///   of 10^unitExp, `10`+5, `110`+12, `1110`+20 or `11110`+32 bits of zigzag(dod / 10^unitExp),
///   else `11111` and 64 bits of dod — then the value as Gorilla's XOR: `0` when it repeats,
///   `10` + the meaningful bits inside the previous leading/trailing window, or `11` + 5 bits
///   leading zeros, 6 bits length (0 meaning 64) and the meaningful bits.
/// Lossless for every bit pattern and every (ascending) Int64 timestamp, wrapping included.
struct HeadStream: Sendable {
    private var bits = BitWriter()
    /// Samples in the stream.
    private(set) var count = 0
    /// Newest timestamp in the stream (`Int64.min` when empty).
    private(set) var lastTime = Int64.min
    private var lastDelta: Int64 = 0
    private var lastBits: UInt64 = 0
    private var unitExp: UInt8 = 0
    private var xor = XORWriter()

    static let pow10: [Int64] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]

    /// Bytes the stream holds (its array's capacity), for the memory figures.
    var footprint: Int { bits.bytes.capacity + 8 }

    /// Appends a sample newer than every one in the stream.
    mutating func append(_ t: Int64, _ v: Double) {
        let vb = v.bitPattern
        switch count {
        case 0:
            bits.write(UInt64(bitPattern: t), bits: 64)
            bits.write(vb, bits: 64)
            lastBits = vb
        case 1:
            let delta = t &- lastTime
            var e = 6
            while e > 0, delta % Self.pow10[e] != 0 { e -= 1 }
            unitExp = UInt8(e)
            bits.write(UInt64(bitPattern: delta), bits: 64)
            bits.write(UInt64(e), bits: 4)
            lastDelta = delta
            writeValue(vb)
        default:
            let delta = t &- lastTime
            writeDelta(delta &- lastDelta)
            lastDelta = delta
            writeValue(vb)
        }
        lastTime = t
        count += 1
    }

    @inline(__always)
    private mutating func writeDelta(_ dod: Int64) {
        if dod == 0 { bits.write(0, bits: 1); return }
        let unit = Self.pow10[Int(unitExp)]
        if dod % unit == 0 {
            let zz = ZigZag.encode(dod / unit)
            if zz < 1 << 5 { bits.write(0b10 << 5 | zz, bits: 7); return }
            if zz < 1 << 12 { bits.write(0b110 << 12 | zz, bits: 15); return }
            if zz < 1 << 20 { bits.write(0b1110 << 20 | zz, bits: 24); return }
            if zz < 1 << 32 { bits.write(0b11110 << 32 | zz, bits: 37); return }
        }
        bits.write(0b11111, bits: 5)
        bits.write(UInt64(bitPattern: dod), bits: 64)
    }

    @inline(__always)
    private mutating func writeValue(_ vb: UInt64) {
        xor.write(vb ^ lastBits, to: &bits)
        lastBits = vb
    }

    /// Appends every sample of the stream, oldest first, to `ts` and `vs`.
    func decode(into ts: inout [Int64], _ vs: inout [Double]) {
        guard count > 0 else { return }
        var w = bits
        let bytes = w.finish()
        // Our own bytes, written above: a failure here is a bug, not input.
        do {
            try bytes.withUnsafeBytes { raw in
                var r = BitReader(raw)
                var t = Int64(bitPattern: try r.read(bits: 64))
                var vb = try r.read(bits: 64)
                ts.append(t)
                vs.append(Double(bitPattern: vb))
                guard count > 1 else { return }
                var delta = Int64(bitPattern: try r.read(bits: 64))
                let unit = Self.pow10[Int(try r.read(bits: 4))]
                var xor = XORReader()
                for i in 1..<count {
                    if i > 1 { delta &+= try Self.readDelta(&r, unit: unit) }
                    t &+= delta
                    vb ^= try xor.read(from: &r)
                    ts.append(t)
                    vs.append(Double(bitPattern: vb))
                }
            }
        } catch {
            preconditionFailure("head stream does not decode: \(error)")
        }
    }

    private static func readDelta(_ r: inout BitReader, unit: Int64) throws -> Int64 {
        var ones = 0
        while ones < 5, try r.readBit() { ones += 1 }
        switch ones {
        case 0: return 0
        case 1: return ZigZag.decode(try r.read(bits: 5)) &* unit
        case 2: return ZigZag.decode(try r.read(bits: 12)) &* unit
        case 3: return ZigZag.decode(try r.read(bits: 20)) &* unit
        case 4: return ZigZag.decode(try r.read(bits: 32)) &* unit
        default: return Int64(bitPattern: try r.read(bits: 64))
        }
    }
}
