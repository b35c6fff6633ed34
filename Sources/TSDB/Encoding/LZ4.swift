import CLZ4

/// liblz4 block compression for chunk columns and WAL records.
public enum LZ4 {
    /// Compressed bytes, or nil when compression does not make the input smaller.
    public static func compress(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        guard input.count > 0, input.count < Int(LZ4_MAX_INPUT_SIZE) else { return nil }
        let bound = Int(LZ4_compressBound(Int32(input.count)))
        var out = [UInt8](repeating: 0, count: bound)
        let written = out.withUnsafeMutableBytes { dst in
            LZ4_compress_default(
                input.baseAddress!.assumingMemoryBound(to: CChar.self),
                dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                Int32(input.count), Int32(bound))
        }
        guard written > 0, Int(written) < input.count else { return nil }
        out.removeSubrange(Int(written)...)
        return out
    }

    /// The most `compress` can write for `count` input bytes (nil when too large for LZ4).
    static func compressBound(_ count: Int) -> Int? {
        guard count > 0, count < Int(LZ4_MAX_INPUT_SIZE) else { return nil }
        return Int(LZ4_compressBound(Int32(count)))
    }

    /// Compresses into `out` (at least ``compressBound(_:)`` bytes); the bytes written, or
    /// nil when compression does not make the input smaller.
    static func compress(_ input: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard let bound = compressBound(input.count), out.count >= bound,
              let src = input.baseAddress, let dst = out.baseAddress else { return nil }
        let written = LZ4_compress_default(src.assumingMemoryBound(to: CChar.self), dst.assumingMemoryBound(to: CChar.self),
                                           Int32(input.count), Int32(bound))
        guard written > 0, Int(written) < input.count else { return nil }
        return Int(written)
    }

    public static func compress(_ input: [UInt8]) -> [UInt8]? {
        input.withUnsafeBytes { compress($0) }
    }

    /// The most an LZ4 block of `compressedCount` bytes can expand to: a byte of the format
    /// stands for at most 255 bytes of output, plus the block's final literals.
    public static func maxDecompressedSize(_ compressedCount: Int) -> Int {
        compressedCount > (Int.max - 16) / 255 ? Int.max : compressedCount * 255 + 16
    }

    /// Decompresses exactly `rawCount` bytes into `out`; throws when the input is damaged.
    public static func decompress(_ input: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, rawCount: Int) throws {
        guard rawCount <= out.count, rawCount < Int(Int32.max), input.count < Int(Int32.max) else { throw CodecError.malformed("LZ4 sizes out of range") }
        guard rawCount > 0 else { return }
        guard let src = input.baseAddress else { throw CodecError.truncated }
        let n = LZ4_decompress_safe(
            src.assumingMemoryBound(to: CChar.self),
            out.baseAddress!.assumingMemoryBound(to: CChar.self),
            Int32(input.count), Int32(rawCount))
        guard n == Int32(rawCount) else { throw CodecError.malformed("LZ4 block does not decompress to \(rawCount) bytes") }
    }

    public static func decompress(_ input: UnsafeRawBufferPointer, rawCount: Int) throws -> [UInt8] {
        // Checked before allocating: a damaged length must not cost gigabytes (or trap).
        guard rawCount >= 0, rawCount <= maxDecompressedSize(input.count) else {
            throw CodecError.malformed("LZ4 block of \(input.count) bytes cannot hold \(rawCount) bytes")
        }
        var out = [UInt8](repeating: 0, count: rawCount)
        try out.withUnsafeMutableBytes { o throws in try decompress(input, into: o, rawCount: rawCount) }
        return out
    }
}
