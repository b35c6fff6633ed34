import Primitives

/// The frame of one encoded column inside a block's chunk file:
/// `u8 flags` (bit 0: LZ4), `varint rawLength`, `varint storedLength`, payload,
/// `u32 CRC32C` over everything before it. LZ4 is applied only when it shrinks the column.
public enum ColumnFrame {
    static let flagLZ4: UInt8 = 1

    public static func append(_ column: [UInt8], to out: inout [UInt8], tryCompression: Bool = true) {
        let start = out.count
        if tryCompression, column.count >= 32, let packed = LZ4.compress(column), packed.count + 2 < column.count {
            out.append(flagLZ4)
            out.appendVarint(UInt64(column.count))
            out.appendVarint(UInt64(packed.count))
            out.append(contentsOf: packed)
        } else {
            out.append(0)
            out.appendVarint(UInt64(column.count))
            out.appendVarint(UInt64(column.count))
            out.append(contentsOf: column)
        }
        let crc = out.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        out.appendFixed(crc)
    }

    /// A frame located in a buffer, checksum verified.
    public struct View {
        public let compressed: Bool
        public let rawLength: Int
        public let payload: UnsafeRawBufferPointer
        public let frameLength: Int
    }

    public static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int, verify: Bool = true) throws -> View {
        var r = ByteReader(bytes, offset: offset)
        let flags = try r.byte()
        guard flags & ~flagLZ4 == 0 else { throw CodecError.malformed("unknown column flags \(flags)") }
        let raw = try r.varint(), stored = try r.varint()
        guard raw < UInt64(Int32.max), stored < UInt64(Int32.max) else { throw CodecError.malformed("column length out of range") }
        if flags & flagLZ4 != 0, Int(raw) > LZ4.maxDecompressedSize(Int(stored)) {
            throw CodecError.malformed("LZ4 column of \(stored) bytes cannot hold \(raw) bytes")
        }
        let payload = try r.slice(Int(stored))
        let end = r.offset
        let crc = try r.fixed(UInt32.self)
        if verify {
            let actual = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
            guard actual == crc else { throw CodecError.checksumMismatch(expected: crc, actual: actual) }
        }
        return View(compressed: flags & flagLZ4 != 0, rawLength: Int(raw), payload: payload, frameLength: r.offset - offset)
    }

    /// The column's bytes, decompressed when needed (`scratch` is reused across calls).
    public static func withColumn<R>(_ view: View, scratch: inout [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        if !view.compressed { return try body(view.payload) }
        if scratch.count < view.rawLength { scratch = [UInt8](repeating: 0, count: view.rawLength) }
        return try scratch.withUnsafeMutableBytes { s throws in
            try LZ4.decompress(view.payload, into: s, rawCount: view.rawLength)
            return try body(UnsafeRawBufferPointer(rebasing: s[..<view.rawLength]))
        }
    }
}
