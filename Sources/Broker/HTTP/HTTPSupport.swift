import Foundation
import Hummingbird
import Primitives
import Prometheus

/// JSON error bodies (`{"error": {"code", "message"}}`), shared by the broker and the proxy.
enum HTTPErrors {
    static func response(status: HTTPResponse.Status, code: String, message: String, retryAfter: Duration? = nil, extra: String = "") -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(max(1, retryAfter.components.seconds)) }
        let body = "{\(extra)\"error\":{\"code\":\(JSONFormat.quoted(code)),\"message\":\(JSONFormat.quoted(message))}}"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func response(for error: BrokerError) -> Response {
        let code: String
        var retry: Duration?
        switch error {
        case .invalidName, .invalidRequest: code = "bad_request"
        case .invalidPartition: code = "invalid_partition"
        case .recordTooLarge: code = "too_large"
        case .unavailable(_, let after): code = "unavailable"; retry = after
        case .shutDown: code = "unavailable"; retry = .seconds(1)
        case .io: code = "io_error"
        }
        return response(status: .init(code: error.httpStatus), code: code, message: error.description, retryAfter: retry)
    }

    static func json(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// `http_requests_total{route,method,status}` and `http_request_duration_seconds{route,method}`
/// by route template (unknown paths count as `other`, so scanners cannot blow up the label set).
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let registry: PrometheusCollectorRegistry
    let routes: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let route = routes.contains(request.uri.path) ? request.uri.path : "other"
        let method = request.method.rawValue
        var status = 500
        defer {
            registry.makeCounter(descriptor: metricName("http_requests_total", "HTTP requests by route template, method and status"),
                                 labels: [("route", route), ("method", method), ("status", String(status))]).increment()
            registry.makeDurationHistogram(
                descriptor: metricName("http_request_duration_seconds", "HTTP request latency until the response head"),
                labels: [("route", route), ("method", method)],
                buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                          .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)]
            ).record(ContinuousClock.now - start)
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as any HTTPResponseError {
            status = error.status.code
            throw error
        }
    }
}
