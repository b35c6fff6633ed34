import Foundation
import Hummingbird

/// Reads a whole request body into bytes, refusing (413) past `limit` without buffering more.
/// A `Content-Encoding: gzip` or `deflate` body is inflated, and `limit` bounds the inflated
/// size too (see ``BodyDecompression``).
enum BodyReader {
    static func read(_ request: Request, limit: Int) async throws -> [UInt8] {
        let encoding = try BodyDecompression.encoding(of: request.headers[.contentEncoding])
        let raw = try await readRaw(request, limit: limit)
        return try BodyDecompression.inflate(raw, encoding: encoding, limit: limit)
    }

    /// The body as sent, `Content-Encoding` not applied (remote_write decodes its snappy
    /// blocks itself).
    static func readRaw(_ request: Request, limit: Int) async throws -> [UInt8] {
        let length = request.headers[.contentLength].flatMap { Int($0) }
        if let length, length > limit {
            throw APIError.tooLarge(limit)
        }
        var out: [UInt8] = []
        // One allocation for a body that says its length, not a doubling copy per chunk.
        if let length, length > 0 { out.reserveCapacity(length) }
        for try await chunk in request.body {
            guard out.count + chunk.readableBytes <= limit else { throw APIError.tooLarge(limit) }
            chunk.withUnsafeReadableBytes { out.append(contentsOf: $0) }
        }
        return out
    }

    /// The media type of the body without parameters, lower-cased (`text/csv`).
    static func mediaType(_ request: Request) -> String? {
        guard let raw = request.headers[.contentType] else { return nil }
        return raw.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    }
}
