import CZlib

/// `Content-Encoding: gzip` / `deflate` request bodies (Telegraf's InfluxDB outputs send gzip
/// by default), inflated incrementally so the body limit bounds the *decompressed* size: a
/// small body that would inflate past the limit (a gzip bomb) is refused with 413 after at
/// most `limit` bytes of output, never buffered whole.
package enum BodyDecompression {
    package enum Encoding: Equatable {
        case identity, gzip, deflate
    }

    /// The body's encoding from `Content-Encoding`; 415 for one this server does not decode.
    static func encoding(of header: String?) throws(APIError) -> Encoding {
        guard let header else { return .identity }
        switch header.trimmingCharacters(in: .whitespaces).lowercased() {
        case "", "identity": return .identity
        case "gzip", "x-gzip": return .gzip
        case "deflate": return .deflate
        default:
            throw .unsupportedMediaType("Content-Encoding \(header) is not supported; send gzip, deflate or an uncompressed body")
        }
    }

    /// Inflates `input`; throws 413 when the output would pass `limit` bytes and 400 when the
    /// stream is not valid gzip/zlib (or raw deflate, which some clients send as `deflate`).
    package static func inflate(_ input: [UInt8], encoding: Encoding, limit: Int) throws(APIError) -> [UInt8] {
        switch encoding {
        case .identity:
            return input
        case .gzip:
            return try run(input, windowBits: 15 + 16, limit: limit, name: "gzip")
        case .deflate:
            // RFC 9110's deflate is the zlib format; accept raw deflate too, as browsers do.
            do { return try run(input, windowBits: 15, limit: limit, name: "deflate") } catch let e where e.status == .badRequest {
                return try run(input, windowBits: -15, limit: limit, name: "deflate")
            }
        }
    }

    private static func run(_ input: [UInt8], windowBits: Int32, limit: Int, name: String) throws(APIError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .internal("zlib could not be initialised")
        }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        out.reserveCapacity(min(limit, max(4096, input.count * 4)))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { (inBuf: UnsafeBufferPointer<UInt8>) throws(APIError) in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = UInt32(inBuf.count)
            while true {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return outBuf.count - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    throw .badRequest("the \(name) body is not valid \(name) data (zlib status \(status))")
                }
                guard out.count + produced <= limit else { throw .tooLarge(limit, decompressed: true) }
                out.append(contentsOf: chunk[..<produced])
                if status == Z_STREAM_END {
                    // gzip allows several members back to back (`cat a.gz b.gz`).
                    guard windowBits > 15, stream.avail_in > 0 else { return }
                    guard inflateReset(&stream) == Z_OK else { throw .internal("zlib could not be reset") }
                    continue
                }
                if produced == 0 && (stream.avail_in == 0 || status == Z_BUF_ERROR) {
                    throw .badRequest("the \(name) body ends before its end-of-stream marker (truncated?)")
                }
            }
        }
        return out
    }
}
