import AsyncHTTPClient
import Foundation
import HTTPServing
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import Primitives

/// The consistent-hash proxy: the broker HTTP API in front of several brokers, routing each
/// (topic, partition) to its owner on the ring. SSE passes through unbuffered; connections
/// to brokers come from one pooled `HTTPClient`.
///
/// ```swift
/// let proxy = ProxyServer(config: ProxyConfig(brokers: urls), client: .shared, registry: registry, logger: logger)
/// try await proxy.application(host: "0.0.0.0", port: 8080).runService()
/// ```
package struct ProxyServer: Sendable {
    package let config: ProxyConfig
    package let table: RoutingTable
    package let client: HTTPClient
    package let registry: PrometheusCollectorRegistry
    package let logger: Logger
    package let healthChecker: HealthChecker

    /// Every route with who may call it; `makeRouter` serves exactly these. `/status` and
    /// `/topics` name the brokers and their data, so they need the token too.
    package static let routeTable: [RouteEntry] = ProbeRoutes.routeTable + [
        RouteEntry(.get, "/status", .serviceToken),
        RouteEntry(.get, "/topics", .serviceToken),
        RouteEntry(.post, "/produce", .serviceToken),
        RouteEntry(.post, "/ack", .serviceToken),
        RouteEntry(.get, "/consume", .serviceToken),
    ]

    package init(config: ProxyConfig, client: HTTPClient, registry: PrometheusCollectorRegistry, logger: Logger) {
        self.config = config
        // Sorted, so the order brokers are listed in cannot change anything.
        self.table = RoutingTable(ring: HashRing(nodes: config.brokers.sorted(), virtualNodes: config.virtualNodes), failover: config.failover,
                                  partitionsPerTopic: config.partitionsPerTopic, topicPartitions: config.topicPartitions)
        self.client = client
        self.registry = registry
        self.logger = logger
        self.healthChecker = HealthChecker(table: table, client: client, interval: config.healthInterval,
                                           timeout: config.healthTimeout, registry: registry, logger: logger)
    }

    /// The application, with the health checker running as one of its services.
    package func application(host: String, port: Int, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> Application<RouterResponder<BasicRequestContext>>
    {
        config.httpTimeouts.application(router: makeRouter(), host: host, port: port, services: [healthChecker],
                                        logger: logger, onServerRunning: onServerRunning)
    }

    package func makeRouter() -> Router<BasicRequestContext> {
        makeServerRouter(Self.routeTable, token: config.serviceToken, registry: registry) { entry in handler(for: entry.path) }
    }

    var probes: ProbeRoutes {
        ProbeRoutes(registry: registry) { [table, retryAfter = config.retryAfter] in
            table.health().values.contains(true) ? nil : ProbeRoutes.NotReady(message: "no broker is up", retryAfter: retryAfter)
        }
    }

    func handler(for path: String) -> @Sendable (Request, BasicRequestContext) async throws -> Response {
        if let probe = probes.handler(for: path) { return probe }
        switch path {
        case "/status": return { request, _ in status(request) }
        case "/topics": return { _, _ in await topics() }
        case "/produce": return { request, _ in await forwardUnary(request, path: "/produce") }
        case "/ack": return { request, _ in await ack(request) }
        case "/consume": return { request, _ in await consume(request) }
        default:
            preconditionFailure("route \(path) is in ProxyServer.routeTable without a handler")
        }
    }

    // MARK: Helpers

    func key(_ request: Request) -> (topic: String, partition: Int)? {
        let q = request.uri.queryParameters
        guard let topic = q.get("topic"), (try? validateName(topic, kind: "topic")) != nil,
              let partition = q.get("partition").flatMap({ try? nonNegativeInteger($0, name: "partition") }) else { return nil }
        return (topic, partition)
    }

    func badKey() -> Response {
        HTTPErrors.response(status: .badRequest, code: "bad_request", message: "query parameters 'topic' (A-Z a-z 0-9 . _ -) and 'partition' (an integer from 0 to 2147483647) are required")
    }

    func unavailable(_ owner: String?) -> Response {
        count(broker: owner ?? "none", status: 503)
        return HTTPErrors.response(status: .serviceUnavailable, code: "broker_unavailable",
                                   message: "the broker owning this partition (\(owner ?? "none")) is down; retry later",
                                   retryAfter: config.retryAfter)
    }

    func count(broker: String, status: Int) {
        registry.makeCounter(descriptor: metricName("proxy_requests_total", "Requests forwarded by broker and status"),
                             labels: [("broker", broker), ("status", String(status))]).increment()
    }

    func failedOver() {
        registry.makeCounter(descriptor: metricName("proxy_failovers_total", "Requests routed to a fallback broker")).increment()
    }

    func upstreamRequest(_ broker: String, path: String, query: String, method: HTTPMethod, headers: HTTPFields, body: ByteBuffer?) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: broker + path + (query.isEmpty ? "" : "?" + query))
        r.method = method
        if let ct = headers[.contentType] { r.headers.add(name: "Content-Type", value: ct) }
        if let token = config.serviceToken, !token.isEmpty { r.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body { r.body = .bytes(body) }
        return r
    }

    func collectBody(_ request: Request) async -> ByteBuffer? {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > config.maxBodyBytes { return nil }
        return try? await request.body.collect(upTo: config.maxBodyBytes)
    }

    func tooLarge() -> Response {
        HTTPErrors.response(status: .contentTooLarge, code: "too_large", message: "request body exceeds \(config.maxBodyBytes) bytes (MAX_BODY_BYTES)")
    }

    /// Sends a buffered request to `broker`; nil (and the broker marked down) when it could
    /// not be reached.
    func sendRaw(_ broker: String, path: String, query: String, method: HTTPMethod, headers: HTTPFields, body: ByteBuffer?) async
        -> (status: Int, headers: HTTPHeaders, body: ByteBuffer)?
    {
        let r = upstreamRequest(broker, path: path, query: query, method: method, headers: headers, body: body)
        do {
            let response = try await client.execute(r, timeout: timeAmount(config.requestTimeout))
            let bytes = try await response.body.collect(upTo: 64 << 20)
            count(broker: broker, status: Int(response.status.code))
            return (Int(response.status.code), response.headers, bytes)
        } catch {
            logger.warning("broker unreachable", metadata: ["broker": "\(broker)", "error": "\(error)"])
            table.markDown(broker)
            return nil
        }
    }

    /// Like `sendRaw`, answered as-is (status, content type, Retry-After, body).
    func send(_ broker: String, path: String, query: String, method: HTTPMethod, headers: HTTPFields, body: ByteBuffer?) async -> Response? {
        guard let r = await sendRaw(broker, path: path, query: query, method: method, headers: headers, body: body) else { return nil }
        var out: HTTPFields = [:]
        if let ct = r.headers.first(name: "Content-Type") { out[.contentType] = ct }
        if let ra = r.headers.first(name: "Retry-After") { out[.retryAfter] = ra }
        return Response(status: .init(code: r.status), headers: out, body: .init(byteBuffer: r.body))
    }

    /// Produce: to the owner, or (failover) the first healthy broker after it.
    func forwardUnary(_ request: Request, path: String) async -> Response {
        guard let k = key(request) else { return badKey() }
        if !config.failover, let streamed = await forwardStreaming(request, key: k, path: path) { return streamed }
        guard let body = await collectBody(request) else { return tooLarge() }
        for _ in 0..<max(1, table.ring.nodes.count) {
            switch table.route(topic: k.topic, partition: k.partition) {
            case .unavailable(let owner):
                return unavailable(owner)
            case .broker(let b, let fo):
                if fo { failedOver() }
                if let response = await send(b, path: path, query: request.uri.query ?? "", method: .POST, headers: request.headers, body: body) {
                    return response
                }
                if !config.failover { return unavailable(b) }
            }
        }
        return unavailable(table.owner(topic: k.topic, partition: k.partition))
    }

    /// Without failover a request goes to one broker only, so a body of known length is streamed
    /// through as it arrives instead of being gathered (and copied) first; nil when the length is
    /// unknown (the caller gathers it, enforcing the limit).
    func forwardStreaming(_ request: Request, key k: (topic: String, partition: Int), path: String) async -> Response? {
        guard let length = request.headers[.contentLength].flatMap(Int.init) else { return nil }
        guard length <= config.maxBodyBytes else { return tooLarge() }
        guard case .broker(let b, _) = table.route(topic: k.topic, partition: k.partition) else {
            return unavailable(table.owner(topic: k.topic, partition: k.partition))
        }
        var r = upstreamRequest(b, path: path, query: request.uri.query ?? "", method: .POST, headers: request.headers, body: nil)
        r.body = .stream(request.body, length: .known(Int64(length)))
        do {
            let response = try await client.execute(r, timeout: timeAmount(config.requestTimeout))
            let bytes = try await response.body.collect(upTo: 64 << 20)
            count(broker: b, status: Int(response.status.code))
            var out: HTTPFields = [:]
            if let ct = response.headers.first(name: "Content-Type") { out[.contentType] = ct }
            if let ra = response.headers.first(name: "Retry-After") { out[.retryAfter] = ra }
            return Response(status: .init(code: Int(response.status.code)), headers: out, body: .init(byteBuffer: bytes))
        } catch {
            logger.warning("broker unreachable", metadata: ["broker": "\(b)", "error": "\(error)"])
            table.markDown(b)
            return unavailable(b)
        }
    }

    func status(_ request: Request) -> Response {
        let shares = table.ring.shares()
        let health = table.health()
        var s = "{\"virtualNodes\":\(table.ring.virtualNodes),\"failover\":\(config.failover),\"hash\":\"xxhash64\",\"key\":\"<topic>:<partition>\",\"brokers\":["
        s += table.ring.nodes.enumerated().map { i, b in
            "{\"index\":\(i),\"url\":\(JSONFormat.quoted(b)),\"up\":\(health[b] ?? false),\"share\":\(shares[b] ?? 0)}"
        }.joined(separator: ",")
        s += "],\"points\":["
        s += table.ring.points.map { "[\"\(String($0.hash, radix: 16))\",\($0.node)]" }.joined(separator: ",")
        s += "]"
        s += ",\"assignment\":\"bounded-load consistent hashing\",\"partitionsPerTopic\":\(table.partitionsPerTopic)"
        // With ?topic=T (and optionally &partitions=N, default the configured count): the
        // owner and the current route of every partition, and the partitions per broker.
        let q = request.uri.queryParameters
        if let topic = q.get("topic"), (try? validateName(topic, kind: "topic")) != nil {
            let n = min(4096, q.get("partitions").flatMap { try? nonNegativeInteger($0, name: "partitions") } ?? table.partitionCount(topic: topic))
            var load: [String: Int] = [:]
            s += ",\"topic\":\(JSONFormat.quoted(topic)),\"routes\":[" + (0..<n).map { p -> String in
                let owner = table.owner(topic: topic, partition: p) ?? ""
                load[owner, default: 0] += 1
                let route: String
                switch table.route(topic: topic, partition: p) {
                case .broker(let b, _): route = b
                case .unavailable: route = ""
                }
                return "{\"partition\":\(p),\"owner\":\(JSONFormat.quoted(owner)),\"routedTo\":\(JSONFormat.quoted(route))}"
            }.joined(separator: ",") + "]"
            s += ",\"partitionsPerBroker\":{" + table.ring.nodes.map { "\(JSONFormat.quoted($0)):\(load[$0] ?? 0)" }.joined(separator: ",") + "}"
        }
        return HTTPErrors.json(s + "}")
    }

    /// Every broker's /topics, side by side.
    func topics() async -> Response {
        var parts: [String] = []
        for b in table.ring.nodes {
            var entry = "{\"url\":\(JSONFormat.quoted(b)),\"up\":\(table.isUp(b))"
            if table.isUp(b), let r = await sendRaw(b, path: "/topics", query: "", method: .GET, headers: [:], body: nil), r.status == 200 {
                entry += ",\"topics\":" + Self.innerTopics(String(buffer: r.body))
            }
            parts.append(entry + "}")
        }
        return HTTPErrors.json("{\"brokers\":[" + parts.joined(separator: ",") + "]}")
    }

    /// `{"topics":[…]}` → `[…]`.
    static func innerTopics(_ json: String) -> String {
        guard let start = json.firstIndex(of: "["), let end = json.lastIndex(of: "]") else { return "[]" }
        return String(json[start...end])
    }
}
