import Foundation
import Hummingbird
import Logging

/// The outermost middleware: turns every error into the JSON error shape, then records
/// `http_requests_total` / `http_request_duration_seconds` by route template and writes one
/// structured access-log line per request.
struct ObservabilityMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let metrics: APIMetrics
    let logger: Logger
    let accessLog: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let apiError = APIError.wrap(error)
            if apiError.status.code >= 500 {
                logger.error("request failed", metadata: ["path": .string(request.uri.path), "error": .string(apiError.message)])
            }
            response = try apiError.response(from: request, context: context)
        }
        let elapsed = clock.now - start
        let template = context.endpointPath.map { $0 == "NotFound" ? "unmatched" : $0 } ?? "unmatched"
        let route = template == "unmatched" && request.method == .options ? "preflight" : template
        metrics.record(route: route, method: request.method.rawValue, status: response.status.code, duration: elapsed)
        if accessLog {
            let (seconds, attos) = elapsed.components
            let millis = Double(seconds) * 1000 + Double(attos) / 1e15
            logger.info("request", metadata: [
                "method": .string(request.method.rawValue),
                "path": .string(request.uri.path),
                "route": .string(route),
                "status": .stringConvertible(response.status.code),
                "duration_ms": .string(String(format: "%.3f", millis)),
                "remote": .string(context.remoteAddress ?? "-"),
            ])
        }
        return response
    }
}
