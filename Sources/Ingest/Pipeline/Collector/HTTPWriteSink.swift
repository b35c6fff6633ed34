import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Primitives

/// Writes to the API server's internal write endpoint (`POST /internal/v1/write`, Bearer
/// `SERVICE_TOKEN`, a DCGM CSV body), used when the collector and the TSDB are separate
/// processes. The server answers 204 once the samples are durable, which is when this returns.
package final class HTTPWriteSink: SampleSink {
    package let endpoint: String
    private let token: String?
    private let client: HTTPClient
    private let timeout: Duration

    /// - Parameters:
    ///   - baseURL: the API server, e.g. `http://127.0.0.1:8080`.
    ///   - path: the write route (default `/internal/v1/write`).
    ///   - token: the shared `SERVICE_TOKEN`, sent as `Authorization: Bearer`.
    package init(baseURL: String, path: String = "/internal/v1/write", token: String?, client: HTTPClient = .shared, timeout: Duration = .seconds(30)) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        if !base.contains("://") { base = "http://" + base }
        self.endpoint = base + path
        self.token = token
        self.client = client
        self.timeout = timeout
    }

    package func write(documents: [[UInt8]]) async throws -> Int {
        var written = 0
        let bodies = Self.merge(documents)
        for body in bodies where body.bytes.readableBytes > 0 {
            do {
                written += try await post(body.bytes, rows: body.rows)
            } catch SinkError.rejected(413?, _) where documents.count > 1 {
                // Too large merged: send the documents one by one (idempotent if some were stored).
                return try await documents.asyncSum { try await write(documents: [$0]) }
            } catch SinkError.rejected(let status?, let message) where status == 400 || status == 415 {
                // Which document is bad is only known when the body held one.
                throw SinkError.malformed(document: documents.count == 1 ? 0 : nil, reason: message)
            }
        }
        return written
    }

    /// Concatenates documents that share one header line into one body (fewer requests),
    /// written once into the buffer the request sends; rows are counted with memchr.
    static func merge(_ documents: [[UInt8]]) -> [(bytes: ByteBuffer, rows: Int)] {
        // Group consecutive documents by header: (first document, header end, [(doc, from)]).
        var groups: [(size: Int, rows: Int, parts: [(doc: Int, from: Int)])] = []
        var header: ArraySlice<UInt8> = []
        for (d, doc) in documents.enumerated() where !doc.isEmpty {
            let nl = doc.firstIndex(of: 0x0A) ?? (doc.count - 1)
            let head = doc[...nl]
            let rows = Self.lineCount(doc) - 1
            if let last = groups.indices.last, head == header {
                groups[last].size += doc.count - (nl + 1)
                groups[last].rows += rows
                groups[last].parts.append((d, nl + 1))
            } else {
                groups.append((doc.count, rows, [(d, 0)]))
                header = head
            }
        }
        return groups.map { g in
            var buffer = ByteBuffer()
            buffer.reserveCapacity(g.size)
            for part in g.parts {
                _ = documents[part.doc].withUnsafeBytes { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: $0[part.from...])) }
            }
            return (buffer, g.rows)
        }
    }

    /// Newlines in `bytes`.
    static func lineCount(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { p -> Int in
            guard var at = p.baseAddress else { return 0 }
            let end = at + p.count
            var n = 0
            while at < end, let hit = memchr(at, 0x0A, at.distance(to: end)) {
                n += 1
                at = UnsafeRawPointer(hit) + 1
            }
            return n
        }
    }

    private func post(_ body: ByteBuffer, rows: Int) async throws -> Int {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "text/csv")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(body)
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .init(timeout))
        } catch {
            throw SinkError.retryable(status: nil, retryAfter: nil, message: "\(endpoint): \(error)")
        }
        let status = Int(response.status.code)
        let text = String(buffer: try await response.body.collect(upTo: 64 * 1024))
        switch status {
        case 200..<300:
            // X-Samples-Written: what the server stored (rows minus blanks and out-of-window).
            return response.headers.first(name: "X-Samples-Written").flatMap { Int($0) } ?? max(0, rows)
        case 429, 502, 503, 504:
            throw SinkError.retryable(status: status, retryAfter: parseRetryAfter(response.headers), message: text)
        case 500..<600:
            throw SinkError.storage("HTTP \(status) from \(endpoint): \(text)")
        default:
            throw SinkError.rejected(status: status, message: text)
        }
    }
}

/// `Retry-After` in seconds (the only form our servers send).
func parseRetryAfter(_ headers: HTTPHeaders) -> Duration? {
    guard let v = headers.first(name: "Retry-After") else { return nil }
    return try? RetryAfter.parse(v)
}

extension TimeAmount {
    init(_ d: Duration) { self = .nanoseconds(d.nanoseconds) }
}

extension Array {
    fileprivate func asyncSum(_ body: (Element) async throws -> Int) async rethrows -> Int {
        var total = 0
        for e in self { total += try await body(e) }
        return total
    }
}
