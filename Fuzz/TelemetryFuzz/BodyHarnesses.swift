import APIServer

/// Request bodies before any parser sees them: `Content-Encoding: gzip` / `deflate`.
enum BodyHarnesses {
    static let limit = 1 << 16

    /// A gzip (even first byte) or zlib / raw deflate (odd) body: inflating never traps and
    /// never returns more than the body limit (a decompression bomb is a 413).
    @Sendable static func inflate(_ data: UnsafeRawBufferPointer) {
        let (selector, rest) = split(data)
        let encoding: BodyDecompression.Encoding = selector & 1 == 0 ? .gzip : .deflate
        guard let out = try? BodyDecompression.inflate([UInt8](rest), encoding: encoding, limit: limit) else { return }
        require(out.count <= limit, "inflated \(out.count) bytes past the limit of \(limit)")
    }
}
