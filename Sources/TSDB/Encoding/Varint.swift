/// Little helpers for the on-disk formats: LEB128 varints, zigzag, fixed-width little-endian
/// integers, appended to a `[UInt8]` (read back by ``ByteReader``).
@usableFromInline
enum ZigZag {
    @inline(__always) @usableFromInline static func encode(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    @inline(__always) @usableFromInline static func decode(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }

    @inline(__always)
    mutating func appendSignedVarint(_ value: Int64) { appendVarint(ZigZag.encode(value)) }

    @inline(__always)
    mutating func appendFixed<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
