import HTTPTypes
import Hummingbird

/// Known paths asked with another method get 405 with `Allow` (any method, even ones this
/// server never heard of), unknown paths keep their 404.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && context.endpointPath == "NotFound" {
            guard let methods = RouteTable.route(forPath: request.uri.path)?.methods else { throw error }
            var all = methods
            if all.contains(.get) && !all.contains(.head) { all.append(.head) }
            let allow = all.map(\.rawValue).joined(separator: ", ")
            var refusal = APIError.methodNotAllowed("\(request.method.rawValue) is not allowed on \(request.uri.path); use \(allow)")
            refusal.headers[.allow] = allow
            throw refusal
        }
    }
}
