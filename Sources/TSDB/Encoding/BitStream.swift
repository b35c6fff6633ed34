/// Writes bits MSB-first into a byte array through a 64-bit accumulator.
struct BitWriter {
    private(set) var bytes: [UInt8]
    private var acc: UInt64 = 0
    private var used: Int = 0   // bits in acc

    init(reserving capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends the low `count` bits of `value` (0...64).
    @inline(__always)
    mutating func write(_ value: UInt64, bits count: Int) {
        guard count > 0 else { return }
        let v = count == 64 ? value : value & ((1 << UInt64(count)) - 1)
        let free = 64 - used
        if count <= free {
            acc = count == 64 ? v : (acc << UInt64(count)) | v
            used += count
            if used == 64 { flushWord() }
        } else {
            let high = count - free
            acc = (acc << UInt64(free)) | (v >> UInt64(high))
            used = 64
            flushWord()
            acc = v & ((1 << UInt64(high)) - 1)
            used = high
        }
    }

    @inline(__always)
    mutating func writeBit(_ bit: Bool) { write(bit ? 1 : 0, bits: 1) }

    @inline(__always)
    private mutating func flushWord() {
        withUnsafeBytes(of: acc.bigEndian) { bytes.append(contentsOf: $0) }
        acc = 0
        used = 0
    }

    /// Pads the last byte with zeros and returns the bytes.
    mutating func finish() -> [UInt8] {
        var n = used
        var a = acc << UInt64(64 - n)
        while n > 0 {
            bytes.append(UInt8(truncatingIfNeeded: a >> 56))
            a <<= 8
            n -= 8
        }
        acc = 0
        used = 0
        return bytes
    }
}

/// Reads bits MSB-first; reading past the end throws.
struct BitReader {
    private let bytes: UnsafeRawBufferPointer
    private var pos: Int = 0         // next byte to load
    private var acc: UInt64 = 0
    private var avail: Int = 0       // valid bits in acc (top-aligned)

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    @inline(__always)
    private mutating func refill() {
        if bytes.count - pos >= 8 && avail == 0 {
            acc = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: pos, as: UInt64.self))
            pos += 8
            avail = 64
            return
        }
        while avail <= 56 && pos < bytes.count {
            acc |= UInt64(bytes[pos]) << UInt64(56 - avail)
            pos += 1
            avail += 8
        }
    }

    @inline(__always)
    mutating func read(bits count: Int) throws -> UInt64 {
        guard count > 0 else { return 0 }
        if count <= avail {
            let v = count == 64 ? acc : acc >> UInt64(64 - count)
            acc = count == 64 ? 0 : acc << UInt64(count)
            avail -= count
            return v
        }
        // Take what is there, refill, take the rest.
        let first = avail
        var v: UInt64 = first == 0 ? 0 : acc >> UInt64(64 - first)
        acc = 0
        avail = 0
        refill()
        let rest = count - first
        guard rest <= avail else { throw CodecError.truncated }
        v = first == 0 ? 0 : v << UInt64(rest)
        v |= rest == 64 ? acc : acc >> UInt64(64 - rest)
        acc = rest == 64 ? 0 : acc << UInt64(rest)
        avail -= rest
        return v
    }

    @inline(__always)
    mutating func readBit() throws -> Bool { try read(bits: 1) == 1 }
}
