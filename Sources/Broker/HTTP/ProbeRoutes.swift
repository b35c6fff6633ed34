import Hummingbird
import Prometheus

/// `GET /health`, `/ready` and `/metrics`: the open probe routes the broker and the proxy
/// answer alike. Liveness is always ok, readiness asks the server (`notReady` returns why it
/// cannot serve, or nil), metrics are the Prometheus text of its registry.
///
/// ```swift
/// let probes = ProbeRoutes(registry: registry) { await broker.isOpen ? nil : .init(message: "broker is shutting down") }
/// static let routeTable = ProbeRoutes.routeTable + [RouteEntry(.post, "/produce", .serviceToken)]
/// if let probe = probes.handler(for: path) { return probe }
/// ```
struct ProbeRoutes: Sendable {
    /// Why a server is not ready, as its 503 says it.
    struct NotReady: Sendable {
        var message: String
        var retryAfter: Duration = .seconds(1)
    }

    static let routeTable: [RouteEntry] = [
        RouteEntry(.get, "/health", .open),
        RouteEntry(.get, "/ready", .open),
        RouteEntry(.get, "/metrics", .open),
    ]

    let registry: PrometheusCollectorRegistry
    let notReady: @Sendable () async -> NotReady?

    init(registry: PrometheusCollectorRegistry, notReady: @escaping @Sendable () async -> NotReady?) {
        self.registry = registry
        self.notReady = notReady
    }

    /// The handler of a probe path, nil for any other path.
    func handler(for path: String) -> (@Sendable (Request, BasicRequestContext) async throws -> Response)? {
        switch path {
        case "/health":
            return { _, _ in HTTPErrors.json("{\"status\":\"ok\"}") }
        case "/ready":
            return { [notReady] _, _ in
                guard let reason = await notReady() else { return HTTPErrors.json("{\"status\":\"ready\"}") }
                return HTTPErrors.response(status: .serviceUnavailable, code: "not_ready", message: reason.message, retryAfter: reason.retryAfter)
            }
        case "/metrics":
            return { [registry] _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                         body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
            }
        default:
            return nil
        }
    }
}
