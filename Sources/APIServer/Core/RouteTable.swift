import HTTPTypes
import Hummingbird

/// Which credential a route needs.
enum AccessClass: Sendable, Equatable {
    /// No credential: probes, metrics, the documentation and the built-in UI's static files.
    case open
    /// An API key (`X-API-Key`, `Authorization: Bearer`, and the forms of ``Route/credentials``).
    case apiKey
    /// The service token that the roles of a cluster share (`Authorization: Bearer`).
    case serviceToken
}

/// The other ways than `X-API-Key` / `Authorization: Bearer` a route's clients send the key.
enum CredentialForms: Sendable, Equatable {
    case standard
    /// HTTP Basic with the key as the password (Grafana's JSON datasource "Basic auth",
    /// Prometheus remote_write's `basic_auth`).
    case basic
    /// InfluxDB v2 clients: `Authorization: Token <key>`, or Basic with the key as password.
    case influxV2
    /// InfluxDB 1.x clients: as v2, plus `?u=<user>&p=<key>` in the query string.
    case influxV1
}

/// The shape of a route's error bodies, where the client parses them.
enum ErrorDialect: Sendable, Equatable {
    /// `{"error": {"code", "message"}}`.
    case native
    /// InfluxDB 1.x: `{"error": "message"}` and `X-Influxdb-Error`.
    case influxV1
    /// InfluxDB 2.x: `{"code": "invalid", "message": "…"}`.
    case influxV2
}

/// One route the API serves: its path template in the router's syntax, its methods and the
/// credential it needs.
struct Route: Sendable {
    let template: String
    let methods: [HTTPRequest.Method]
    let access: AccessClass
    var credentials: CredentialForms = .standard
    var errors: ErrorDialect = .native

    /// The template as the router reports a matched route (`context.endpointPath`): `/a/{b}`.
    var endpointPath: String { RouterPath(template).description }
}

/// Every route of the API with its class: the one place access is decided from.
///
/// ``AuthMiddleware`` looks the *matched* route up here (the router's `endpointPath`), never
/// the raw request path, so no other spelling of a path (`//api/v1/gpus`, a trailing slash,
/// dot segments, percent-encoded separators, other letter case) can change the class: a
/// spelling the router resolves to a protected route is protected, and one it does not resolve
/// is not served. A route missing from this table needs an API key, and a test fails until it
/// is listed (`RouteTableTests`).
enum RouteTable {
    static let routes: [Route] = [
        // Probes, metrics and documentation.
        Route(template: "health", methods: [.get], access: .open),
        Route(template: "ready", methods: [.get], access: .open),
        Route(template: "metrics", methods: [.get], access: .open),
        Route(template: "ping", methods: [.get, .head], access: .open),
        Route(template: "openapi.json", methods: [.get], access: .open),
        Route(template: "docs", methods: [.get], access: .open),
        Route(template: "docs/:file", methods: [.get], access: .open),
        // The built-in UI's static files; the data it shows comes from the protected routes.
        Route(template: "/", methods: [.get], access: .open),
        Route(template: "ui/**", methods: [.get], access: .open),
        // Inventory, telemetry, queries and live streams.
        Route(template: "api/v1/gpus", methods: [.get], access: .apiKey),
        Route(template: "api/v1/gpus/:uuid", methods: [.get], access: .apiKey),
        Route(template: "api/v1/gpus/:uuid/telemetry", methods: [.get], access: .apiKey),
        Route(template: "api/v1/gpus/:uuid/stream", methods: [.get], access: .apiKey),
        Route(template: "api/v1/hosts", methods: [.get], access: .apiKey),
        Route(template: "api/v1/hosts/:hostname/gpus", methods: [.get], access: .apiKey),
        Route(template: "api/v1/namespaces", methods: [.get], access: .apiKey),
        Route(template: "api/v1/metrics", methods: [.get], access: .apiKey),
        Route(template: "api/v1/query", methods: [.get], access: .apiKey),
        Route(template: "api/v1/query/explain", methods: [.get], access: .apiKey),
        // Writes.
        Route(template: "telemetry", methods: [.post], access: .apiKey),
        // Prometheus remote_write also sends its `basic_auth` (key as the password) to these.
        Route(template: "api/v1/write", methods: [.post], access: .apiKey, credentials: .basic),
        Route(template: "prometheus/api/v1/write", methods: [.post], access: .apiKey, credentials: .basic),
        Route(template: "api/v1/push", methods: [.post], access: .apiKey, credentials: .basic),
        Route(template: "write", methods: [.post], access: .apiKey, credentials: .influxV1, errors: .influxV1),
        Route(template: "query", methods: [.get, .post], access: .apiKey, credentials: .influxV1, errors: .influxV1),
        Route(template: "api/v2/write", methods: [.post], access: .apiKey, credentials: .influxV2, errors: .influxV2),
        Route(template: "internal/v1/write", methods: [.post], access: .serviceToken),
        // Grafana JSON datasource.
        Route(template: "grafana", methods: [.get], access: .apiKey, credentials: .basic),
        Route(template: "grafana/metrics", methods: [.post], access: .apiKey, credentials: .basic),
        Route(template: "grafana/metric-payload-options", methods: [.post], access: .apiKey, credentials: .basic),
        Route(template: "grafana/query", methods: [.post], access: .apiKey, credentials: .basic),
        Route(template: "grafana/variable", methods: [.post], access: .apiKey, credentials: .basic),
        Route(template: "grafana/tag-keys", methods: [.post], access: .apiKey, credentials: .basic),
        Route(template: "grafana/tag-values", methods: [.post], access: .apiKey, credentials: .basic),
        Route(template: "grafana/search", methods: [.post], access: .apiKey, credentials: .basic),
        Route(template: "grafana/annotations", methods: [.post], access: .apiKey, credentials: .basic),
        // The Prometheus query API (Grafana's built-in Prometheus datasource: Bearer, key header or Basic).
        Route(template: "prometheus/api/v1/query", methods: [.get, .post], access: .apiKey, credentials: .basic),
        Route(template: "prometheus/api/v1/query_range", methods: [.get, .post], access: .apiKey, credentials: .basic),
        Route(template: "prometheus/api/v1/series", methods: [.get, .post], access: .apiKey, credentials: .basic),
        Route(template: "prometheus/api/v1/labels", methods: [.get, .post], access: .apiKey, credentials: .basic),
        Route(template: "prometheus/api/v1/label/:name/values", methods: [.get, .post], access: .apiKey, credentials: .basic),
        Route(template: "prometheus/api/v1/metadata", methods: [.get], access: .apiKey, credentials: .basic),
        Route(template: "prometheus/api/v1/status/buildinfo", methods: [.get], access: .apiKey, credentials: .basic),
    ]

    /// Routes by the router's `endpointPath` of them.
    static let byEndpointPath: [String: Route] = Dictionary(
        routes.map { ($0.endpointPath, $0) }, uniquingKeysWith: { first, _ in first }
    )

    /// The route the router matched; nil when it matched none (the request gets 404 or 405).
    static func matched(_ endpointPath: String?) -> Route? {
        guard let endpointPath, endpointPath != "NotFound" else { return nil }
        return byEndpointPath[endpointPath]
    }

    /// The route a request path would reach with another method, segment by segment as the
    /// router splits it (empty segments ignored); only used to answer 405 with `Allow`.
    static func route(forPath path: String) -> Route? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for route in routes {
            let parts = route.template.split(separator: "/")
            if parts.last == "**" {
                if segments.count >= parts.count - 1,
                   zip(parts.dropLast(), segments).allSatisfy({ $0.hasPrefix(":") || $0 == $1 }) { return route }
                continue
            }
            guard parts.count == segments.count else { continue }
            if zip(parts, segments).allSatisfy({ $0.hasPrefix(":") || $0 == $1 }) { return route }
        }
        return nil
    }
}
