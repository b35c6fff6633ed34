import TSDB

/// The chunk column codecs and the column frame, as a block read reaches them. Any column
/// that decodes must re-encode and decode to the same values (bit for bit).
enum CodecHarnesses {
    /// Columns announcing more than this are decoded into a buffer of this size, which the
    /// decoder must refuse cleanly (as it refuses a chunk whose index count is too small).
    static let bufferLimit = 1 << 16

    @Sendable static func timestamps(_ data: UnsafeRawBufferPointer) {
        guard let decoded = decodeTimestamps(data) else { return }
        let again = TimestampCodec.encode(decoded)
        let back = try? TimestampCodec.decode(again)
        require(back == decoded, "\(decoded.count) timestamps do not survive re-encoding")
    }

    @Sendable static func values(_ data: UnsafeRawBufferPointer) {
        guard let decoded = decodeValues(data) else { return }
        let again = ValueCodec.encode(decoded)
        let back = try? ValueCodec.decode(again)
        require(back.map { $0.map(\.bitPattern) == decoded.map(\.bitPattern) } ?? false,
                "\(decoded.count) values do not survive re-encoding (kind \(String(describing: try? again.withUnsafeBytes { try ValueCodec.kind($0) })))")
    }

    /// A column frame (checksum verified when the first byte is odd), its payload
    /// decompressed and decoded both as timestamps and as values; and the rest of the input
    /// framed as a column, which must read back byte for byte.
    @Sendable static func column(_ data: UnsafeRawBufferPointer) {
        let (selector, rest) = split(data)
        var scratch: [UInt8] = []
        if let frame = try? ColumnFrame.read(rest, at: 0, verify: selector & 1 == 1) {
            _ = try? ColumnFrame.withColumn(frame, scratch: &scratch) { column in
                _ = decodeTimestamps(column)
                _ = decodeValues(column)
            }
        }
        let original = [UInt8](rest)
        var framed: [UInt8] = []
        ColumnFrame.append(original, to: &framed, tryCompression: selector & 2 == 0)
        let back = framed.withUnsafeBytes { raw -> [UInt8]? in
            guard let frame = try? ColumnFrame.read(raw, at: 0) else { return nil }
            var s: [UInt8] = []
            return try? ColumnFrame.withColumn(frame, scratch: &s) { [UInt8]($0) }
        }
        require(back == original, "a column of \(original.count) bytes does not read back from its frame")
    }

    static func decodeTimestamps(_ column: UnsafeRawBufferPointer) -> [Int64]? {
        guard let n = try? TimestampCodec.count(column) else { return nil }
        var out = [Int64](repeating: 0, count: min(n, bufferLimit))
        guard let decoded = try? out.withUnsafeMutableBufferPointer({ try TimestampCodec.decode(column, into: $0) }) else { return nil }
        require(decoded == n, "timestamp column announces \(n), decoded \(decoded)")
        return Array(out[..<decoded])
    }

    static func decodeValues(_ column: UnsafeRawBufferPointer) -> [Double]? {
        guard let n = try? ValueCodec.count(column) else { return nil }
        var out = [Double](repeating: 0, count: min(n, bufferLimit))
        guard let decoded = try? out.withUnsafeMutableBufferPointer({ try ValueCodec.decode(column, into: $0) }) else { return nil }
        require(decoded == n, "value column announces \(n), decoded \(decoded)")
        return Array(out[..<decoded])
    }
}
