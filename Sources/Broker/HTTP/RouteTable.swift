import Hummingbird
import Prometheus

/// Who may call a route of the broker or the proxy.
package enum RouteAccess: Sendable, Equatable {
    /// Health, readiness and metrics: probes and Prometheus need no credential.
    case open
    /// Everything else: `Authorization: Bearer <SERVICE_TOKEN>` when a token is configured.
    case serviceToken
}

/// One route of a server: method, path and who may call it.
package struct RouteEntry: Sendable, Equatable {
    package let method: HTTPRequest.Method
    package let path: String
    package let access: RouteAccess

    package init(_ method: HTTPRequest.Method, _ path: String, _ access: RouteAccess) {
        self.method = method
        self.path = path
        self.access = access
    }
}

/// Registers the routes of `table` so that access is decided by the route that matched,
/// never by the raw request path: protected routes live in a router group whose token
/// middleware runs only after the router resolved the request to one of them. Whatever
/// spelling the router accepts for `/produce` (`//produce`, `/produce/`, ...) therefore
/// reaches the same guarded responder, and a spelling it does not accept is a 404.
/// A route missing from the table is not served at all.
///
/// ```swift
/// installRoutes(BrokerServer.routeTable, on: router, token: config.serviceToken) { entry in handler(for: entry) }
/// ```
package func installRoutes<Context: RequestContext>(
    _ table: [RouteEntry],
    on router: Router<Context>,
    token: String?,
    handler: (RouteEntry) -> @Sendable (Request, Context) async throws -> Response
) {
    let open = router.group()
    let guarded = router.group()
    if let token, !token.isEmpty {
        guarded.add(middleware: ServiceTokenMiddleware<Context>(token: Array(token.utf8)))
    }
    for entry in table {
        let group = entry.access == .open ? open : guarded
        group.on(RouterPath(entry.path), method: entry.method, use: handler(entry))
    }
}

/// The router of the broker and the proxy: request metrics by matched route, then the routes of
/// `table` installed by ``installRoutes(_:on:token:handler:)``.
func makeServerRouter(
    _ table: [RouteEntry],
    token: String?,
    registry: PrometheusCollectorRegistry,
    handler: (RouteEntry) -> @Sendable (Request, BasicRequestContext) async throws -> Response
) -> Router<BasicRequestContext> {
    let router = Router()
    router.middlewares.add(HTTPMetricsMiddleware(registry: registry, routes: Set(table.map(\.path))))
    installRoutes(table, on: router, token: token, handler: handler)
    return router
}

/// Requires `Authorization: Bearer <token>`; compares in constant time. Installed only on
/// the guarded group of `installRoutes`, so it sees requests already matched to a route.
struct ServiceTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let presented = Self.bearer(request.headers[.authorization]), Self.constantTimeEqual(presented, token) else {
            var response = HTTPErrors.response(status: .unauthorized, code: "unauthorized",
                                               message: "missing or wrong service token: send Authorization: Bearer $SERVICE_TOKEN")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }

    /// The credential of `Bearer <credential>` (scheme case-insensitive, as RFC 9110 says).
    static func bearer(_ header: String?) -> [UInt8]? {
        guard let header else { return nil }
        let bytes = Array(header.utf8)
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count else { return nil }
        for i in 0..<scheme.count where bytes[i] | 0x20 != scheme[i] { return nil }
        return Array(bytes[scheme.count...])
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}
