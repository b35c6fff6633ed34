import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Primitives
import Synchronization

/// A ``BrokerClient`` that talks to a broker or the proxy over HTTP: batch produce
/// (`POST /produce?…&batch=1`, length-prefixed payloads), consume as one stream per partition
/// (`GET /consume?…&encoding=binary`: binary record frames, no base64; an older broker's
/// Server-Sent Events are read too), buffered and back-pressured, reconnected after errors, and
/// ack (`POST /ack`). Sends `Authorization: Bearer <token>` when given one.
///
/// ```swift
/// let client = HTTPBrokerClient(baseURL: "http://127.0.0.1:8080", token: env["SERVICE_TOKEN"])
/// let ids = try await client.produce(topic: "telemetry", partition: 2, payloads: [doc])
/// await client.close()
/// ```
package final class HTTPBrokerClient: BrokerClient {
    package let baseURL: String
    let token: String?
    let http: HTTPClient
    let requestTimeout: Duration
    let logger: Logger
    /// Records a partition's event stream may hold before reading pauses (back-pressure).
    let consumeBuffer: Int
    /// Partitions assumed for a topic the broker does not list yet.
    let defaultPartitions: Int
    private let subscriptions = Mutex<[String: SSESubscription]>([:])
    private let closed = Mutex(false)

    package init(baseURL: String, token: String? = nil, requestTimeout: Duration = .seconds(15),
                consumeBuffer: Int = 32, defaultPartitions: Int = 4, logger: Logger = Logger(label: "broker-client")) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        if !base.contains("://") { base = "http://" + base }
        self.baseURL = base
        self.token = token
        self.requestTimeout = requestTimeout
        self.consumeBuffer = max(1, consumeBuffer)
        self.defaultPartitions = max(1, defaultPartitions)
        self.logger = logger
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        configuration.timeout = .init(connect: .seconds(3), read: nil)
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func url(_ path: String, _ query: [(String, String)]) -> String {
        let q = query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }
        return baseURL + path + (q.isEmpty ? "" : "?" + q.joined(separator: "&"))
    }

    func request(_ url: String, method: HTTPMethod, body: [UInt8]? = nil, contentType: String? = nil) -> HTTPClientRequest {
        request(url, method: method, buffer: body.map { ByteBuffer(bytes: $0) }, contentType: contentType)
    }

    func request(_ url: String, method: HTTPMethod, buffer: ByteBuffer?, contentType: String? = nil) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: url)
        r.method = method
        if let token { r.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let contentType { r.headers.add(name: "Content-Type", value: contentType) }
        if let buffer { r.body = .bytes(buffer) }
        return r
    }

    /// Sends a request; returns status and body, mapping failures to ``BrokerClientError``.
    func send(_ r: HTTPClientRequest) async throws -> (Int, ByteBuffer) {
        if closed.withLock({ $0 }) { throw BrokerClientError.closed }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(r, timeout: .init(requestTimeout))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw BrokerClientError.connection("\(r.url): \(error)")
        }
        let status = Int(response.status.code)
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: 16 << 20)
        } catch {
            throw BrokerClientError.connection("\(r.url): reading the response: \(error)")
        }
        switch status {
        case 200..<300:
            return (status, body)
        case 429, 502, 503, 504:
            throw BrokerClientError.retryable(status: status, retryAfter: parseRetryAfter(response.headers), message: Self.message(body))
        case 500..<600:
            throw BrokerClientError.retryable(status: status, retryAfter: nil, message: Self.message(body))
        default:
            throw BrokerClientError.rejected(status: status, message: Self.message(body))
        }
    }

    static func message(_ body: ByteBuffer) -> String {
        let text = String(buffer: body)
        if let data = text.data(using: .utf8),
           let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let err = obj["error"] as? [String: Any], let m = err["message"] as? String { return m }
            if let m = obj["error"] as? String { return m }
        }
        return String(text.prefix(300))
    }

    /// The topic's partition count from `GET /topics`; a topic the broker has not created yet
    /// gets `defaultPartitions` (the broker's own default, PARTITIONS_PER_TOPIC).
    package func partitionCount(topic: String) async throws -> Int {
        let counts = try await topicEntries(topic).compactMap { ($0["partitions"] as? [Any])?.count }
        if let n = counts.max(), n > 0 { return n }
        logger.notice("topic not created yet; assuming the default partition count", metadata: [
            "topic": "\(topic)", "partitions": "\(defaultPartitions)",
        ])
        return defaultPartitions
    }

    package func lag(topic: String, partition: Int, group: String) async -> Int? {
        guard let entries = try? await topicEntries(topic), !entries.isEmpty else { return nil }
        var total: Int?
        for t in entries {
            guard let parts = t["partitions"] as? [[String: Any]],
                  let p = parts.first(where: { ($0["partition"] as? Int) == partition }),
                  let groups = p["groups"] as? [[String: Any]],
                  let g = groups.first(where: { ($0["name"] as? String) == group }),
                  let lag = g["lag"] as? Int else { continue }
            total = (total ?? 0) + lag
        }
        return total
    }

    /// The entries of `topic` in `GET /topics`: one from a broker (`{"topics":[…]}`), one per
    /// broker from the proxy (`{"brokers":[{"url":…,"topics":[…]}]}`, summed by the caller).
    private func topicEntries(_ topic: String) async throws -> [[String: Any]] {
        let (_, body) = try await send(request(url("/topics", []), method: .GET))
        let json = try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))
        var lists: [[[String: Any]]] = []
        if let list = json as? [[String: Any]] { lists.append(list) }
        if let obj = json as? [String: Any] {
            if let list = obj["topics"] as? [[String: Any]] { lists.append(list) }
            for b in obj["brokers"] as? [[String: Any]] ?? [] {
                if let list = b["topics"] as? [[String: Any]] { lists.append(list) }
            }
        }
        return lists.flatMap { $0.filter { ($0["name"] as? String) == topic } }
    }

    package func produce(topic: String, partition: Int, payloads: [[UInt8]]) async throws -> [String] {
        guard !payloads.isEmpty else { return [] }
        // The batch body written once, straight into the buffer the request sends.
        var body = ByteBuffer()
        body.reserveCapacity(payloads.reduce(0) { $0 + $1.count + 4 })
        for p in payloads {
            body.writeInteger(UInt32(p.count), endianness: .big)
            body.writeBytes(p)
        }
        let u = url("/produce", [("topic", topic), ("partition", String(partition)), ("batch", "1")])
        let (_, response) = try await send(request(u, method: .POST, buffer: body, contentType: "application/x-telemetry-batch"))
        let obj = (try? JSONSerialization.jsonObject(with: Data(String(buffer: response).utf8))) as? [String: Any]
        if let ids = obj?["ids"] as? [String] { return ids }
        if let id = obj?["id"] as? String { return [id] }
        return []
    }

    @discardableResult
    package func ack(topic: String, partition: Int, group: String, ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let body = try JSONSerialization.data(withJSONObject: ["ids": ids])
        let u = url("/ack", [("topic", topic), ("partition", String(partition)), ("group", group)])
        do {
            let (_, response) = try await send(request(u, method: .POST, body: Array(body), contentType: "application/json"))
            let obj = (try? JSONSerialization.jsonObject(with: Data(String(buffer: response).utf8))) as? [String: Any]
            return obj?["acked"] as? Int ?? ids.count
        } catch BrokerClientError.rejected(status: 404, _) {
            return 0   // already acked or unknown: ack is idempotent
        }
    }

    package func poll(topic: String, partition: Int, group: String, maxRecords: Int, wait: Duration) async throws -> [ConsumedMessage] {
        if closed.withLock({ $0 }) { throw BrokerClientError.closed }
        let key = "\(topic)\u{0}\(partition)\u{0}\(group)"
        let sub = subscriptions.withLock { subs -> SSESubscription in
            if let s = subs[key] { return s }
            let u = url("/consume", [("topic", topic), ("partition", String(partition)), ("group", group), ("encoding", "binary"), ("max", String(consumeBuffer))])
            let s = SSESubscription(client: self, url: u, capacity: consumeBuffer, logger: logger)
            subs[key] = s
            return s
        }
        return try await sub.take(max: maxRecords, wait: wait)
    }

    package func close() async {
        closed.withLock { $0 = true }
        let subs = subscriptions.withLock { s in
            defer { s.removeAll() }
            return Array(s.values)
        }
        for s in subs { await s.stop() }
        try? await http.shutdown()
    }
}
