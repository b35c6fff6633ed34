import HTTPTypes
import Hummingbird

/// Every route with the methods it serves; other methods on these paths get 405 with `Allow`.
let routeTable: [(String, [HTTPRequest.Method])] = [
    ("health", [.get]), ("ready", [.get]), ("metrics", [.get]), ("ping", [.get, .head]), ("openapi.json", [.get]), ("docs", [.get]),
    ("api/v1/gpus", [.get]), ("api/v1/gpus/:uuid", [.get]), ("api/v1/gpus/:uuid/telemetry", [.get]),
    ("api/v1/gpus/:uuid/stream", [.get]), ("api/v1/hosts", [.get]), ("api/v1/hosts/:hostname/gpus", [.get]),
    ("api/v1/namespaces", [.get]), ("api/v1/metrics", [.get]), ("api/v1/query", [.get]), ("api/v1/query/explain", [.get]),
    ("telemetry", [.post]), ("api/v1/write", [.post]), ("prometheus/api/v1/write", [.post]), ("api/v1/push", [.post]), ("write", [.post]), ("api/v2/write", [.post]), ("internal/v1/write", [.post]),
    ("grafana", [.get]), ("grafana/metrics", [.post]), ("grafana/metric-payload-options", [.post]), ("grafana/query", [.post]),
    ("grafana/variable", [.post]), ("grafana/tag-keys", [.post]), ("grafana/tag-values", [.post]),
    ("grafana/search", [.post]), ("grafana/annotations", [.post]),
]

/// The methods served on a raw request path, from ``routeTable``; nil for an unknown path.
func allowedMethods(path: String) -> [HTTPRequest.Method]? {
    let segments = path.split(separator: "/", omittingEmptySubsequences: true)
    for (template, methods) in routeTable {
        let parts = template.split(separator: "/")
        guard parts.count == segments.count else { continue }
        if zip(parts, segments).allSatisfy({ $0.hasPrefix(":") || $0 == $1 }) { return methods }
    }
    return nil
}

/// Known paths asked with another method get 405 with `Allow` (any method, even ones this
/// server never heard of), unknown paths keep their 404.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && context.endpointPath == "NotFound" {
            guard let methods = allowedMethods(path: request.uri.path) else { throw error }
            var all = methods
            if all.contains(.get) && !all.contains(.head) { all.append(.head) }
            let allow = all.map(\.rawValue).joined(separator: ", ")
            var refusal = APIError.methodNotAllowed("\(request.method.rawValue) is not allowed on \(request.uri.path); use \(allow)")
            refusal.headers[.allow] = allow
            throw refusal
        }
    }
}
