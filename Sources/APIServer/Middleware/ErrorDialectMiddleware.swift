import HTTPTypes
import Hummingbird

/// Renders errors of the InfluxDB-compatible routes in the shape their clients parse, so
/// Telegraf and the InfluxDB client libraries log the reason instead of an opaque status:
/// 1.x `{"error": "message"}` (with `X-Influxdb-Error`), 2.x `{"code": "invalid", "message"}`.
/// Every other route keeps `{"error": {"code", "message"}}`. Runs outside authentication, so
/// a 401 is in the client's shape too.
struct ErrorDialectMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let dialect = RouteTable.matched(context.endpointPath)?.errors ?? .native
            guard dialect != .native else { throw error }
            let apiError = APIError.wrap(error)
            var headers = apiError.headers
            var w = JSONWriter(capacity: 64 + apiError.message.utf8.count)
            w.beginObject()
            switch dialect {
            case .influxV1:
                w.key("error"); w.string(apiError.message)
                headers[HTTPField.Name("X-Influxdb-Error")!] = String(apiError.message.prefix(1024).map { $0.isNewline ? " " : $0 })
            case .influxV2, .native:
                w.key("code"); w.string(Self.influxV2Code(apiError.status))
                w.key("message"); w.string(apiError.message)
            }
            w.endObject()
            return w.response(status: apiError.status, headers: headers)
        }
    }

    /// InfluxDB 2.x's error codes by status.
    static func influxV2Code(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: return "invalid"
        case 401: return "unauthorized"
        case 403: return "forbidden"
        case 404: return "not found"
        case 405: return "method not allowed"
        case 413: return "request too large"
        case 415: return "unsupported media type"
        case 422: return "unprocessable entity"
        case 429: return "too many requests"
        case 503: return "unavailable"
        default: return status.code >= 500 ? "internal error" : "invalid"
        }
    }
}
