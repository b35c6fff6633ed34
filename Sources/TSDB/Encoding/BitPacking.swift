import Foundation

/// Bit packing of unsigned integers in groups of 128, each group in the smallest of three
/// forms (Rice only where it is a quarter smaller than both others), told apart by its
/// first byte:
/// - dense `0x00|width` (width 0…64): ⌈n·width/8⌉ bytes, LSB-first;
/// - sparse `0x80|(width−1)`: an n-bit bitmap of the non-zero positions, then only those
///   values at `width` (repeated values, gauges that rarely move);
/// - Rice `0xC0|k` (k ≤ 32): `u8 escapeWidth`, `varint byteLength`, then per value its
///   quotient `v >> k` in unary (ones ended by a zero) and its low k bits; a quotient of 24
///   or more is written as 24 ones and the value in `escapeWidth` bits (noisy gauges whose
///   differences cluster near zero: about a bit less per value than the widest one).
/// A per-group width keeps one outlier from widening a whole chunk, and a fixed width
/// inside a group keeps decoding a branch-light loop (the scaled-integer fast path).
enum BitPacking {
    static let group = 128
    static let sparseFlag: UInt8 = 0x80
    static let riceFlag: UInt8 = 0xC0
    static let riceEscape = 24
    static let riceMaxK = 32

    /// Bits needed for the largest value (0 when all are zero).
    @inline(__always)
    static func width(ofMax maxValue: UInt64) -> Int { maxValue == 0 ? 0 : 64 - maxValue.leadingZeroBitCount }

    /// Bytes ``pack(_:into:riceWhereverSmaller:)`` appends for these values.
    static func packedSize(_ values: UnsafeBufferPointer<UInt64>, riceWhereverSmaller: Bool = false) -> Int {
        var total = 0
        var start = 0
        while start < values.count {
            let end = min(values.count, start + group)
            total += groupSize(UnsafeBufferPointer(rebasing: values[start..<end]), riceWhereverSmaller: riceWhereverSmaller).size
            start = end
        }
        return total
    }

    enum Form { case dense, sparse, rice(Int) }

    /// Size of a group in its smallest form, its width and the form.
    @inline(__always)
    private static func groupSize(_ g: UnsafeBufferPointer<UInt64>, riceWhereverSmaller: Bool) -> (size: Int, width: Int, form: Form) {
        var m: UInt64 = 0
        var nonZero = 0
        var sum: Double = 0
        for v in g {
            m |= v
            if v != 0 { nonZero += 1 }
            sum += Double(v)
        }
        let w = width(ofMax: m)
        var best = (size: 1 + (g.count * w + 7) / 8, width: w, form: Form.dense)
        let sparse = 1 + (g.count + 7) / 8 + (nonZero * w + 7) / 8
        if nonZero > 0, sparse < best.size { best = (sparse, w, .sparse) }
        if w > 2, w <= 56 {
            // Rice parameters near log2 of the mean are the only candidates worth costing.
            let mean = sum / Double(g.count)
            let guess = mean < 1 ? 0 : min(riceMaxK, Int(mean.log2Floor))
            for k in max(0, guess - 2)...min(riceMaxK, guess + 1) {
                let bytes = (riceBits(g, k: k, escapeWidth: w) + 7) / 8
                let size = 2 + (bytes < 128 ? 1 : bytes < 16384 ? 2 : 3) + bytes
                // Rice only where it saves a quarter: a Rice group decodes value by value (each
                // waits on the one before), several times slower than a fixed-width one, and
                // on DCGM-like data most groups it would win save a few percent (default peer
                // set: Rice wherever smaller, 5.96 MB; only where a quarter smaller, 6.25 MB,
                // with range queries over those series 5-20 % faster).
                if riceWhereverSmaller ? size < best.size : size * 4 <= best.size * 3 { best = (size, w, .rice(k)) }
            }
        }
        return best
    }

    @inline(__always)
    private static func riceBits(_ g: UnsafeBufferPointer<UInt64>, k: Int, escapeWidth: Int) -> Int {
        var bits = 0
        for v in g {
            let q = v >> UInt64(k)
            bits += q < UInt64(riceEscape) ? Int(q) + 1 + k : riceEscape + escapeWidth
        }
        return bits
    }

    /// `riceWhereverSmaller`: Rice for every group it makes smaller at all (what columns
    /// written before the quarter rule hold; tests use it to exercise the Rice decoder).
    static func pack(_ values: UnsafeBufferPointer<UInt64>, into out: inout [UInt8], riceWhereverSmaller: Bool = false) {
        var start = 0
        while start < values.count {
            let end = min(values.count, start + group)
            let g = UnsafeBufferPointer(rebasing: values[start..<end])
            let (_, w, form) = groupSize(g, riceWhereverSmaller: riceWhereverSmaller)
            switch form {
            case .sparse:
                out.append(sparseFlag | UInt8(w - 1))
                var bitmap = [UInt8](repeating: 0, count: (g.count + 7) / 8)
                for (i, v) in g.enumerated() where v != 0 { bitmap[i >> 3] |= 1 << UInt8(i & 7) }
                out.append(contentsOf: bitmap)
                packBits(g.lazy.filter { $0 != 0 }, width: w, into: &out)
            case .dense:
                out.append(UInt8(w))
                packBits(g, width: w, into: &out)
            case .rice(let k):
                out.append(riceFlag | UInt8(k))
                out.append(UInt8(w))
                var bits = BitAppender()
                for v in g {
                    let q = v >> UInt64(k)
                    if q < UInt64(riceEscape) {
                        bits.append(q == 0 ? 0 : (UInt64(1) << q) - 1, count: Int(q) + 1)   // q ones, then a zero
                        bits.append(k == 0 ? 0 : v & ((UInt64(1) << UInt64(k)) - 1), count: k)
                    } else {
                        bits.append((UInt64(1) << UInt64(riceEscape)) - 1, count: riceEscape)
                        bits.append(v, count: w)
                    }
                }
                let payload = bits.finish()
                out.appendVarint(UInt64(payload.count))
                out.append(contentsOf: payload)
            }
            start = end
        }
    }

    @inline(__always)
    private static func packBits<S: Sequence>(_ values: S, width w: Int, into out: inout [UInt8]) where S.Element == UInt64 {
        guard w > 0 else { return }
        var bits = BitAppender(appendingTo: &out)
        for v in values { bits.append(v, count: w) }
        out = bits.finish()
    }

    /// Unpacks `count` values into `out`; returns the bytes consumed.
    @discardableResult
    static func unpack(_ src: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutablePointer<UInt64>) throws -> Int {
        try unpack(src, count: count, needed: 0..<count, into: out)
    }

    /// Unpacks the groups of a `count`-value column that hold the values at `needed` into
    /// their places in `out`: groups wholly before it are stepped over by their headers alone,
    /// decoding stops after the group holding its last value, and the slots of groups not
    /// decoded are left as they were. Returns the bytes consumed (the whole column's only when
    /// `needed` reaches its end).
    @discardableResult
    static func unpack(_ src: UnsafeRawBufferPointer, count: Int, needed: Range<Int>,
                       into out: UnsafeMutablePointer<UInt64>) throws -> Int {
        var offset = 0
        var start = 0
        let stop = min(count, needed.upperBound)
        // Groups before the needed values: only their sizes are read.
        while start + group <= needed.lowerBound, start < stop {
            offset = try skipGroup(src, at: offset, n: group)
            start += group
        }
        // Each group is copied into a zero-padded scratch so word loads never pass the end.
        var scratch = [UInt64](repeating: 0, count: group + 2)
        while start < stop {
            let n = min(count - start, group)
            guard offset < src.count else { throw CodecError.truncated }
            let mode = src[offset]
            offset += 1
            if mode & riceFlag == riceFlag {
                let a = try RiceGroup(src, at: offset, k: Int(mode & 0x3F))
                // Two full Rice groups in a row decode interleaved: each value's decode waits
                // on the one before it, so two independent chains keep the core twice as busy.
                if n == group, count - start >= 2 * group, stop - start > group, a.inPlace, a.end < src.count, src[a.end] & riceFlag == riceFlag {
                    let b = try RiceGroup(src, at: a.end + 1, k: Int(src[a.end] & 0x3F))
                    if b.inPlace {
                        try RiceGroup.decodePair(a, b, count: group, into: out + start, out + start + group)
                        offset = b.end
                        start += 2 * group
                        continue
                    }
                }
                try a.decode(count: n, into: out + start)
                offset = a.end
                start += n
                continue
            }
            let header = try PackedHeader(src, mode: mode, at: offset, n: n)
            let w = header.width, bitmap = header.bitmap, bytes = header.bytes
            offset = header.payload
            if w == 0 {
                (out + start).update(repeating: 0, count: n)
                start += n
                continue
            }
            scratch.withUnsafeMutableBytes { s in
                // The bytes after the payload are left as they were (zeros, or an earlier
                // group's): a value's word loads see them only in bits its mask clears.
                s.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + bytes)]))
                let base = s.baseAddress!
                let mask: UInt64 = w == 64 ? ~0 : (1 << UInt64(w)) - 1
                let o = out + start
                // Value k from its word and the next, always both (the scratch has two words
                // to spare): no branch on whether it straddles them. `(next << 1) << (63 - shift)`
                // is `next << (64 - shift)`, and 0 where shift is 0.
                @inline(__always) func value(_ k: Int) -> UInt64 {
                    let bit = k &* w
                    let word = bit &>> 6, shift = UInt64(truncatingIfNeeded: bit & 63)
                    let lo = base.load(fromByteOffset: word &* 8, as: UInt64.self).littleEndian
                    let hi = base.load(fromByteOffset: (word &+ 1) &* 8, as: UInt64.self).littleEndian
                    return ((lo &>> shift) | ((hi &<< 1) &<< (63 &- shift))) & mask
                }
                if let bitmap {
                    // Branch-free too: which values of a gauge that moves now and then are
                    // packed is data, and a branch on the bitmap mispredicted on many of them.
                    // Where the bit is clear the value read (at most one past the packed ones,
                    // still inside the scratch) is masked to 0 and k stays.
                    var k = 0
                    for i in 0..<n {
                        let present = UInt64(truncatingIfNeeded: bitmap[i &>> 3] &>> UInt8(truncatingIfNeeded: i & 7)) & 1
                        o[i] = value(k) & (0 &- present)
                        k &+= Int(truncatingIfNeeded: present)
                    }
                } else {
                    for i in 0..<n { o[i] = value(i) }
                }
            }
            offset += bytes
            start += n
        }
        return offset
    }

    /// Where the group of `n` values at `offset` ends, read from its header alone.
    private static func skipGroup(_ src: UnsafeRawBufferPointer, at offset: Int, n: Int) throws -> Int {
        guard offset < src.count else { throw CodecError.truncated }
        let mode = src[offset]
        if mode & riceFlag == riceFlag { return try RiceGroup(src, at: offset + 1, k: Int(mode & 0x3F)).end }
        let header = try PackedHeader(src, mode: mode, at: offset + 1, n: n)
        return header.payload + header.bytes
    }

    /// The header of a fixed-width group of `n` values (dense, or sparse with its bitmap),
    /// checked against the source: its bit width, bitmap, and where its payload lies.
    private struct PackedHeader {
        let width: Int
        /// The sparse bitmap (a set bit: the value is packed; a clear one: it is zero).
        let bitmap: UnsafeRawBufferPointer?
        /// Where the packed values start, and their byte count.
        let payload: Int
        let bytes: Int

        /// `offset`: the byte after the mode byte.
        @inline(__always)
        init(_ src: UnsafeRawBufferPointer, mode: UInt8, at offset: Int, n: Int) throws {
            let sparse = mode & BitPacking.sparseFlag != 0
            let w = sparse ? Int(mode & 0x3F) + 1 : Int(mode)
            guard w <= 64 else { throw CodecError.malformed("bit width \(w) over 64") }
            var at = offset, packedCount = n
            var map: UnsafeRawBufferPointer?
            if sparse {
                let mapBytes = (n + 7) / 8
                guard src.count - at >= mapBytes else { throw CodecError.truncated }
                let m = UnsafeRawBufferPointer(rebasing: src[at..<(at + mapBytes)])
                packedCount = m.reduce(0) { $0 + $1.nonzeroBitCount }
                guard packedCount <= n else { throw CodecError.malformed("sparse bitmap") }
                map = m
                at += mapBytes
            }
            let bytes = (packedCount * w + 7) / 8
            guard src.count - at >= bytes else { throw CodecError.truncated }
            width = w
            bitmap = map
            payload = at
            self.bytes = bytes
        }
    }
}

/// One Rice group of a packed column: its parameters and payload, and the decoder.
struct RiceGroup {
    let k: Int
    let escapeWidth: Int
    /// The payload, a view into the source being unpacked.
    let payload: UnsafeRawBufferPointer
    var totalBits: Int { payload.count * 8 }
    /// Where the next group starts.
    let end: Int
    /// Whether the decoder may read the payload where it lies. 8-byte loads reach up to 18
    /// bytes past the payload (an escape read right after a corrupt group's last valid bit).
    /// Inside a column they read the bytes that follow: valid data never consults those
    /// bits, and a corrupt group is caught by the bit count check. Near the end of the
    /// source a zero-padded copy is decoded instead.
    let inPlace: Bool

    /// Reads the group header at `start` (after its mode byte).
    init(_ src: UnsafeRawBufferPointer, at start: Int, k: Int) throws {
        guard k <= BitPacking.riceMaxK else { throw CodecError.malformed("Rice parameter \(k)") }
        var r = ByteReader(src, offset: start)
        let escapeWidth = Int(try r.byte())
        guard escapeWidth <= 64 else { throw CodecError.malformed("escape width \(escapeWidth)") }
        let length = try r.varint()
        guard length <= UInt64(r.remaining) else { throw CodecError.truncated }
        payload = try r.slice(Int(length))
        self.k = k
        self.escapeWidth = escapeWidth
        end = r.offset
        inPlace = r.remaining >= 24 && payload.baseAddress != nil
    }

    func decode(count n: Int, into out: UnsafeMutablePointer<UInt64>) throws {
        if inPlace {
            var s = RiceStream(self, base: payload.baseAddress!)
            for i in 0..<n { out[i] = try s.next() }
            try s.finish()
            return
        }
        var buffer = [UInt8](repeating: 0, count: payload.count + 24)
        buffer.withUnsafeMutableBytes { $0.copyMemory(from: payload) }
        try buffer.withUnsafeBytes { b in
            var s = RiceStream(self, base: b.baseAddress!)
            for i in 0..<n { out[i] = try s.next() }
            try s.finish()
        }
    }

    /// Decodes two in-place groups of `n` values, one value of each per step.
    static func decodePair(_ a: RiceGroup, _ b: RiceGroup, count n: Int,
                           into outA: UnsafeMutablePointer<UInt64>, _ outB: UnsafeMutablePointer<UInt64>) throws {
        precondition(a.inPlace && b.inPlace)
        var x = RiceStream(a, base: a.payload.baseAddress!), y = RiceStream(b, base: b.payload.baseAddress!)
        for i in 0..<n {
            outA[i] = try x.next()
            outB[i] = try y.next()
        }
        try x.finish()
        try y.finish()
    }
}

/// The decoding state of one Rice group. The bits are consumed from a register and reloaded
/// only when fewer than a whole non-escaped value (at most riceEscape + 1 + k ≤ 57 bits)
/// remain in it: the chain from one value to the next is a count and a shift, not a load.
///
/// Whether the values read stay inside the group's bits is checked before every load (a
/// reload or an escape), which is what keeps the loads within the payload and its slack,
/// and once more by ``finish()`` after the last value: a corrupt group fails there instead
/// of at the value that overran, and nothing read before is used.
struct RiceStream {
    let base: UnsafeRawPointer
    let k: UInt64
    let kPlusOne: Int
    let kMask: UInt64
    let longest: Int
    let escapeWidth: Int
    let totalBits: Int
    var bit = 0
    var w: UInt64
    var avail = 64

    /// `base`: the group's payload, with at least 24 readable bytes after it.
    @inline(__always)
    init(_ g: RiceGroup, base: UnsafeRawPointer) {
        self.base = base
        k = UInt64(g.k)
        kPlusOne = g.k + 1
        kMask = g.k == 0 ? 0 : (1 << UInt64(g.k)) - 1
        longest = BitPacking.riceEscape + 1 + g.k
        escapeWidth = g.escapeWidth
        totalBits = g.totalBits
        w = base.loadUnaligned(as: UInt64.self).littleEndian
    }

    @inline(__always)
    private func window(_ bit: Int) -> UInt64 {
        base.loadUnaligned(fromByteOffset: bit &>> 3, as: UInt64.self).littleEndian &>> UInt64(bit & 7)
    }

    @inline(__always)
    mutating func next() throws -> UInt64 {
        if avail < longest {
            guard bit <= totalBits else { throw CodecError.truncated }
            w = window(bit)
            avail = 64 &- (bit & 7)
        }
        let q = (~w).trailingZeroBitCount   // leading ones (LSB first)
        let v: UInt64
        if q < BitPacking.riceEscape {
            // Masking shifts: k ≤ 32 and q + 1 ≤ 24, and Swift's `<<` would add an
            // over-shift test per value.
            v = (UInt64(truncatingIfNeeded: q) &<< k) | ((w &>> UInt64(truncatingIfNeeded: q &+ 1)) & kMask)
            let used = q &+ kPlusOne
            w = w &>> UInt64(truncatingIfNeeded: used)
            avail &-= used
            bit &+= used
        } else {
            bit &+= BitPacking.riceEscape
            guard bit <= totalBits else { throw CodecError.truncated }
            var e = window(bit)
            if escapeWidth > 56 { e |= window(bit &+ 56) << 56 }
            v = escapeWidth == 64 ? e : e & ((1 << UInt64(escapeWidth)) - 1)
            bit &+= escapeWidth
            avail = 0
        }
        return v
    }

    /// Throws when the values read ran past the group's bits.
    @inline(__always)
    func finish() throws {
        guard bit <= totalBits else { throw CodecError.truncated }
    }
}

/// Appends bit fields LSB-first (the order ``BitPacking`` reads).
struct BitAppender {
    private var bytes: [UInt8] = []
    private var acc: UInt64 = 0
    private var used = 0

    init() {}

    /// Continues after the bytes of `out`, taking over its storage (nothing is copied; `out`
    /// is left empty): ``finish()`` returns them with the bit fields after them.
    init(appendingTo out: inout [UInt8]) { swap(&bytes, &out) }

    @inline(__always)
    mutating func append(_ value: UInt64, count: Int) {
        guard count > 0 else { return }
        let v = count == 64 ? value : value & ((1 << UInt64(count)) - 1)
        acc |= v << UInt64(used)
        if used + count >= 64 {
            withUnsafeBytes(of: acc.littleEndian) { bytes.append(contentsOf: $0) }
            let consumed = 64 - used
            acc = consumed == 64 ? 0 : v >> UInt64(consumed)
            used = count - consumed
        } else {
            used += count
        }
    }

    mutating func finish() -> [UInt8] {
        while used > 0 {
            bytes.append(UInt8(truncatingIfNeeded: acc))
            acc >>= 8
            used -= 8
        }
        used = 0
        return bytes
    }
}

private extension Double {
    var log2Floor: Double { Foundation.log2(self).rounded(.down) }
}
