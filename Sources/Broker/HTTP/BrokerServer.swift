import Foundation
import HTTPServing
import Hummingbird
import Logging
import Primitives
import Prometheus
import ServiceLifecycle

/// The broker's HTTP API (see README-broker): produce, consume (SSE), ack, topics, health,
/// readiness and metrics, behind the service token when one is configured.
///
/// ```swift
/// let server = BrokerServer(broker: broker, registry: registry, logger: logger)
/// let app = server.application(host: "127.0.0.1", port: 9092)
/// try await app.runService()
/// ```
package struct BrokerServer: Sendable {
    package let broker: MessageBroker
    package let registry: PrometheusCollectorRegistry
    package let logger: Logger
    var config: BrokerConfig { broker.config }

    /// Every route with who may call it; `makeRouter` serves exactly these.
    package static let routeTable: [RouteEntry] = ProbeRoutes.routeTable + [
        RouteEntry(.get, "/topics", .serviceToken),
        RouteEntry(.post, "/produce", .serviceToken),
        RouteEntry(.post, "/ack", .serviceToken),
        RouteEntry(.get, "/consume", .serviceToken),
    ]
    package static let batchContentType = "application/x-telemetry-batch"

    package init(broker: MessageBroker, registry: PrometheusCollectorRegistry, logger: Logger) {
        self.broker = broker
        self.registry = registry
        self.logger = logger
    }

    /// The Hummingbird application listening on `host:port` (port 0 picks a free port and
    /// passes it to `onServerRunning`).
    package func application(host: String, port: Int, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> Application<RouterResponder<BasicRequestContext>>
    {
        config.httpTimeouts.application(router: makeRouter(), host: host, port: port, logger: logger, onServerRunning: onServerRunning)
    }

    package func makeRouter() -> Router<BasicRequestContext> {
        makeServerRouter(Self.routeTable, token: config.serviceToken, registry: registry) { entry in handler(for: entry.path) }
    }

    var probes: ProbeRoutes {
        ProbeRoutes(registry: registry) { [broker] in
            await broker.isOpen ? nil : ProbeRoutes.NotReady(message: "broker is shutting down")
        }
    }

    func handler(for path: String) -> @Sendable (Request, BasicRequestContext) async throws -> Response {
        if let probe = probes.handler(for: path) { return probe }
        switch path {
        case "/topics":
            return { _, _ in
                let info = await broker.topicsInfo()
                let data = (try? JSONEncoder().encode(["topics": info])) ?? Data("{\"topics\":[]}".utf8)
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
            }
        case "/produce": return { request, _ in try await produce(request) }
        case "/ack": return { request, _ in try await ack(request) }
        case "/consume": return { request, _ in try await consume(request) }
        default:
            preconditionFailure("route \(path) is in BrokerServer.routeTable without a handler")
        }
    }

    struct Target {
        let topic: String
        let partition: Int
    }

    func target(_ request: Request) throws -> Target {
        let q = request.uri.queryParameters
        guard let topic = q.get("topic"), !topic.isEmpty else { throw BrokerError.invalidRequest("query parameter 'topic' is required") }
        try validateName(topic, kind: "topic")
        guard let ps = q.get("partition") else { throw BrokerError.invalidRequest("query parameter 'partition' is required") }
        let partition = try nonNegativeInteger(ps, name: "query parameter 'partition'")
        return Target(topic: topic, partition: partition)
    }

    /// Collects the body, answering 413 (as a thrown response) above `maxBodyBytes`.
    func body(_ request: Request) async throws -> ByteBuffer? {
        let limit = config.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { return nil }
        do {
            return try await request.body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return nil
        }
    }

    func tooLarge() -> Response {
        HTTPErrors.response(status: .contentTooLarge, code: "too_large", message: "request body exceeds \(config.maxBodyBytes) bytes (MAX_BODY_BYTES)")
    }

    func produce(_ request: Request) async throws -> Response {
        do {
            let t = try target(request)
            guard let body = try await body(request) else { return tooLarge() }
            let q = request.uri.queryParameters
            let isBatch = q.get("batch").map { $0 == "1" || $0 == "true" } ?? false
                || request.headers[.contentType] == Self.batchContentType
            let payloads: [[UInt8]]
            if isBatch {
                payloads = try BatchFraming.decode(body)
            } else {
                payloads = [Array(buffer: body)]
            }
            let ids = try await broker.produce(topic: t.topic, partition: t.partition, payloads: payloads)
            if isBatch {
                var s = "{\"ids\":["
                s.reserveCapacity(ids.count * 12 + 16)
                for (i, id) in ids.enumerated() {
                    if i > 0 { s += "," }
                    s += "\"" + id + "\""
                }
                return HTTPErrors.json(s + "],\"count\":\(ids.count)}")
            }
            let offset = ids.first.flatMap { MessageBroker.parseID($0, partition: t.partition) } ?? 0
            return HTTPErrors.json("{\"id\":\"\(ids.first ?? "")\",\"offset\":\(offset)}")
        } catch let error as BrokerError {
            return HTTPErrors.response(for: error)
        }
    }

    func ack(_ request: Request) async throws -> Response {
        do {
            let t = try target(request)
            guard let group = request.uri.queryParameters.get("group"), !group.isEmpty else {
                throw BrokerError.invalidRequest("query parameter 'group' is required")
            }
            guard let body = try await body(request) else { return tooLarge() }
            let ids = try AckBody.decode(body)
            let (acked, unknown) = try await broker.ack(topic: t.topic, partition: t.partition, group: group, ids: ids)
            if !unknown.isEmpty {
                let list = unknown.prefix(100).map(JSONFormat.quoted).joined(separator: ",")
                return HTTPErrors.response(status: .notFound, code: "unknown_id",
                                           message: "\(unknown.count) id(s) were never delivered to group '\(group)' on this partition (or are not in flight any more)",
                                           extra: "\"acked\":\(acked),\"unknown\":[\(list)],")
            }
            return HTTPErrors.json("{\"acked\":\(acked)}")
        } catch let error as BrokerError {
            return HTTPErrors.response(for: error)
        }
    }

    func consume(_ request: Request) async throws -> Response {
        let t: Target
        let group: String
        let q = request.uri.queryParameters
        do {
            t = try target(request)
            guard let g = q.get("group"), !g.isEmpty else { throw BrokerError.invalidRequest("query parameter 'group' is required") }
            try validateName(g, kind: "group")
            group = g
            let count = try await broker.ensurePartition(topic: t.topic, partition: t.partition)
            _ = count
        } catch let error as BrokerError {
            return HTTPErrors.response(for: error)
        }
        let encoding = ConsumeEncoding(query: q.get("encoding"))
        let maxRecords = max(1, min(q.get("max").flatMap { try? nonNegativeInteger($0, name: "max") } ?? config.consumeBatch, 10_000))
        let heartbeat = config.heartbeatInterval
        let broker = self.broker
        let logger = self.logger
        let headers: HTTPFields = [.contentType: encoding.contentType, .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await writer.write(encoding.connected)
            let stream = SSEStream(broker: broker, topic: t.topic, partition: t.partition, group: group,
                                   encoding: encoding, maxRecords: maxRecords, heartbeat: heartbeat, logger: logger)
            await stream.run(writer: &writer)
            try? await writer.finish(nil)
        })
    }
}

extension MessageBroker {
    /// Whether the broker still accepts calls.
    package var isOpen: Bool { !closed }

    /// Creates the topic when needed and checks the partition; returns the partition count.
    package func ensurePartition(topic: String, partition: Int) throws -> Int {
        _ = try partitionState(topic, partition)
        return topics[topic]?.count ?? 0
    }

    /// Makes delivered records of `group` visible again at once (a consumer that could not
    /// take them, e.g. an SSE connection that broke before they were written).
    package func release(topic: String, partition: Int, group: String, ids: [String]) {
        guard let p = topics[topic]?[safe: partition], let g = p.groups[group] else { return }
        for id in ids {
            if let o = Self.parseID(id, partition: partition) {
                g.undeliver(o)
                if o < g.cursor { g.cursor = min(g.cursor, o) }
            }
        }
        p.wakeAll()
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { index >= 0 && index < count ? self[index] : nil }
}
