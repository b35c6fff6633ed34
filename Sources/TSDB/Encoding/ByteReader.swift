/// A bounds-checked reader over bytes; every read throws on truncation instead of trapping.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw CodecError.truncated }
            let b = bytes[offset]
            offset += 1
            if shift == 63 && b > 1 { throw CodecError.malformed("varint overflows 64 bits") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw CodecError.malformed("varint longer than 10 bytes") }
        }
    }

    /// The element count that starts every encoded column (bounded to Int32, as chunks are).
    mutating func columnCount(_ what: String) throws -> Int {
        let n = try varint()
        guard n <= UInt64(Int32.max) else { throw CodecError.malformed("\(what) count \(n)") }
        return Int(n)
    }

    /// A column header's element count for decoding into a buffer of `capacity` elements:
    /// refused when the column would not fit (`what` is the plural, e.g. "timestamps").
    mutating func columnCount(_ what: String, fitting capacity: Int) throws -> Int {
        let n = try varint()
        guard n <= UInt64(capacity) else { throw CodecError.malformed("\(n) \(what) do not fit a buffer of \(capacity)") }
        return Int(n)
    }

    /// A varint that counts elements or locates bytes, refused above `limit` (Int32 by
    /// default: no chunk or index holds more) instead of trapping in `Int(_:)`.
    mutating func length(_ what: String, limit: Int = Int(Int32.max)) throws -> Int {
        let n = try varint()
        guard n <= UInt64(limit) else { throw CodecError.malformed("\(what) \(n) out of range") }
        return Int(n)
    }

    mutating func signedVarint() throws -> Int64 { ZigZag.decode(try varint()) }

    mutating func fixed<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw CodecError.truncated }
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return v
    }

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw CodecError.truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func slice(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, remaining >= count else { throw CodecError.truncated }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }
}
