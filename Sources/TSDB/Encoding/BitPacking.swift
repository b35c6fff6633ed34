/// Bit packing of unsigned integers in groups of 128, each group with its own width.
/// A dense group is `u8 width` then ⌈n·width/8⌉ bytes, LSB-first; a sparse group (mostly
/// zeros: repeated values, unchanged gauges) is `u8 0x80|width`, an n-bit bitmap of the
/// non-zero positions, then only those values at `width`. The smaller form is written.
/// A per-group width keeps one outlier from widening a whole chunk, and a fixed width
/// inside a group keeps decoding a branch-light loop (the scaled-integer fast path).
enum BitPacking {
    static let group = 128
    static let sparseFlag: UInt8 = 0x80

    /// Bits needed for the largest value (0 when all are zero).
    @inline(__always)
    static func width(ofMax maxValue: UInt64) -> Int { maxValue == 0 ? 0 : 64 - maxValue.leadingZeroBitCount }

    /// Bytes ``pack(_:into:)`` appends for these values.
    static func packedSize(_ values: UnsafeBufferPointer<UInt64>) -> Int {
        var total = 0
        var start = 0
        while start < values.count {
            let end = min(values.count, start + group)
            total += groupSize(UnsafeBufferPointer(rebasing: values[start..<end])).size
            start = end
        }
        return total
    }

    /// Size of a group in its smaller form, its width and whether that form is sparse.
    @inline(__always)
    private static func groupSize(_ g: UnsafeBufferPointer<UInt64>) -> (size: Int, width: Int, sparse: Bool) {
        var m: UInt64 = 0
        var nonZero = 0
        for v in g {
            m |= v
            if v != 0 { nonZero += 1 }
        }
        let w = width(ofMax: m)
        let dense = 1 + (g.count * w + 7) / 8
        let sparse = 1 + (g.count + 7) / 8 + (nonZero * w + 7) / 8
        return sparse < dense ? (sparse, w, true) : (dense, w, false)
    }

    static func pack(_ values: UnsafeBufferPointer<UInt64>, into out: inout [UInt8]) {
        var start = 0
        while start < values.count {
            let end = min(values.count, start + group)
            let g = UnsafeBufferPointer(rebasing: values[start..<end])
            let (_, w, sparse) = groupSize(g)
            if sparse {
                out.append(sparseFlag | UInt8(w))
                var bitmap = [UInt8](repeating: 0, count: (g.count + 7) / 8)
                for (i, v) in g.enumerated() where v != 0 { bitmap[i >> 3] |= 1 << UInt8(i & 7) }
                out.append(contentsOf: bitmap)
                packBits(g.lazy.filter { $0 != 0 }, width: w, into: &out)
            } else {
                out.append(UInt8(w))
                packBits(g, width: w, into: &out)
            }
            start = end
        }
    }

    @inline(__always)
    private static func packBits<S: Sequence>(_ values: S, width w: Int, into out: inout [UInt8]) where S.Element == UInt64 {
        guard w > 0 else { return }
        var acc: UInt64 = 0
        var used = 0
        for v in values {
            acc |= v << UInt64(used)
            if used + w >= 64 {
                withUnsafeBytes(of: acc.littleEndian) { out.append(contentsOf: $0) }
                let consumed = 64 - used
                acc = consumed == 64 ? 0 : v >> UInt64(consumed)
                used = w - consumed
            } else {
                used += w
            }
        }
        while used > 0 {
            out.append(UInt8(truncatingIfNeeded: acc))
            acc >>= 8
            used -= 8
        }
    }

    /// Unpacks `count` values into `out`; returns the bytes consumed.
    @discardableResult
    static func unpack(_ src: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutablePointer<UInt64>) throws -> Int {
        var offset = 0
        var start = 0
        // Each group is copied into a zero-padded scratch so word loads never pass the end.
        var scratch = [UInt64](repeating: 0, count: group + 2)
        while start < count {
            let n = min(count - start, group)
            guard offset < src.count else { throw CodecError.truncated }
            let mode = src[offset]
            offset += 1
            let w = Int(mode & ~sparseFlag)
            guard w <= 64 else { throw CodecError.malformed("bit width \(w) over 64") }
            var bitmap: UnsafeRawBufferPointer? = nil
            var packedCount = n
            if mode & sparseFlag != 0 {
                let mapBytes = (n + 7) / 8
                guard src.count - offset >= mapBytes else { throw CodecError.truncated }
                let map = UnsafeRawBufferPointer(rebasing: src[offset..<(offset + mapBytes)])
                bitmap = map
                packedCount = map.reduce(0) { $0 + $1.nonzeroBitCount }
                guard packedCount <= n else { throw CodecError.malformed("sparse bitmap") }
                offset += mapBytes
            }
            if w == 0 {
                (out + start).update(repeating: 0, count: n)
                start += n
                continue
            }
            let bytes = (packedCount * w + 7) / 8
            guard src.count - offset >= bytes else { throw CodecError.truncated }
            scratch.withUnsafeMutableBytes { s in
                s.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + bytes)]))
                if bytes < s.count { (s.baseAddress! + bytes).initializeMemory(as: UInt8.self, repeating: 0, count: s.count - bytes) }
                let base = s.baseAddress!
                let mask: UInt64 = w == 64 ? ~0 : (1 << UInt64(w)) - 1
                let o = out + start
                @inline(__always) func value(_ k: Int) -> UInt64 {
                    let bit = k &* w
                    let word = bit &>> 6, shift = bit & 63
                    var v = base.load(fromByteOffset: word &* 8, as: UInt64.self).littleEndian &>> UInt64(shift)
                    if shift &+ w > 64 {
                        v |= base.load(fromByteOffset: (word &+ 1) &* 8, as: UInt64.self).littleEndian &<< UInt64(64 &- shift)
                    }
                    return v & mask
                }
                if let bitmap {
                    var k = 0
                    for i in 0..<n {
                        if bitmap[i &>> 3] & (1 << UInt8(i & 7)) != 0 {
                            o[i] = value(k)
                            k &+= 1
                        } else {
                            o[i] = 0
                        }
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
}
