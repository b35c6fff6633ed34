import HTTPTypes
import Hummingbird

/// CORS with an explicit origin list (`*` for any). Preflight requests (`OPTIONS` with
/// `Access-Control-Request-Method`) are answered here, before authentication, since browsers
/// send them without credentials.
struct CORSPolicyMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let origins: [String]

    static let allowMethods = "GET, POST, OPTIONS"
    static let allowHeaders = "Authorization, X-API-Key, Content-Type, Last-Event-ID"
    static let exposeHeaders = "Retry-After, Content-Type, X-Next-Cursor"

    func allowedOrigin(_ origin: String) -> String? {
        if origins.contains("*") { return "*" }
        return origins.contains(origin) ? origin : nil
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !origins.isEmpty, let origin = request.headers[.origin] else {
            return try await next(request, context)
        }
        let allowed = allowedOrigin(origin)
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            guard let allowed else {
                throw APIError(.forbidden, code: "cors_origin_denied", message: "origin \(origin) is not in the CORS origin list (--cors-origins)")
            }
            var headers: HTTPFields = [
                .accessControlAllowOrigin: allowed,
                .accessControlAllowMethods: Self.allowMethods,
                .accessControlAllowHeaders: Self.allowHeaders,
                .accessControlMaxAge: "600",
            ]
            if allowed != "*" { headers[.vary] = "Origin" }
            return Response(status: .noContent, headers: headers)
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = try APIError.wrap(error).response(from: request, context: context)
        }
        if let allowed {
            response.headers[.accessControlAllowOrigin] = allowed
            response.headers[.accessControlExposeHeaders] = Self.exposeHeaders
            if allowed != "*" { response.headers[.vary] = "Origin" }
        }
        return response
    }
}
