import HTTPTypes
import Hummingbird
import TSDB

/// Every error the API answers, rendered as `{"error": {"code", "message"}}` with its status.
///
/// ```swift
/// throw APIError.badRequest("start_time is after end_time")
/// ```
package struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    package var status: HTTPResponse.Status
    /// A stable machine-readable code (`bad_request`, `not_found`, `unauthorized`, …).
    package var code: String
    package var message: String
    package var headers: HTTPFields = [:]

    package init(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    package var description: String { "\(status.code) \(code): \(message)" }

    package static func badRequest(_ m: String) -> APIError { APIError(.badRequest, code: "bad_request", message: m) }
    package static func notFound(_ m: String) -> APIError { APIError(.notFound, code: "not_found", message: m) }
    package static func unauthorized(_ m: String) -> APIError {
        APIError(.unauthorized, code: "unauthorized", message: m, headers: [.wwwAuthenticate: "Bearer realm=\"telemetry\""])
    }
    package static func tooLarge(_ limit: Int, decompressed: Bool = false) -> APIError {
        APIError(.contentTooLarge, code: "payload_too_large",
                 message: "request body is larger than the limit of \(limit) bytes\(decompressed ? " once decompressed" : "") (--max-body-bytes)")
    }
    package static func unsupportedMediaType(_ m: String) -> APIError { APIError(.unsupportedMediaType, code: "unsupported_media_type", message: m) }
    package static func queryLimit(_ m: String) -> APIError { APIError(.unprocessableContent, code: "query_limit_exceeded", message: m) }
    package static func unavailable(_ m: String) -> APIError { APIError(.serviceUnavailable, code: "unavailable", message: m) }
    package static func methodNotAllowed(_ m: String) -> APIError { APIError(.methodNotAllowed, code: "method_not_allowed", message: m) }
    package static func rateLimited(retryAfter: Int) -> APIError {
        APIError(.tooManyRequests, code: "rate_limited", message: "too many requests for this key; retry after \(retryAfter) s",
                 headers: [.retryAfter: String(retryAfter)])
    }
    package static func `internal`(_ m: String) -> APIError { APIError(.internalServerError, code: "internal", message: m) }

    /// Maps storage errors to HTTP: bad queries 400, limits 422, a query past its deadline
    /// 503 (`query_timeout`), a new series over a limit 400 (`series_limit_exceeded`) or, for
    /// the per-hour budget, 429 with `Retry-After`; the rest 500/503.
    package static func from(_ error: TSDBError) -> APIError {
        switch error {
        case .invalidQuery: return .badRequest(error.description)
        case .seriesLimitExceeded, .sampleLimitExceeded, .resultBytesLimitExceeded, .resultLimitExceeded: return .queryLimit(error.description)
        case .closed: return .unavailable(error.description)
        case .queryTimeout: return APIError(.serviceUnavailable, code: "query_timeout", message: error.description)
        case .seriesRefused(.newSeriesPerHour, _, let retryAfter):
            // The budget refills when the clock hour ends: a retry then succeeds.
            return APIError(.tooManyRequests, code: "new_series_budget_exhausted", message: error.description,
                            headers: [.retryAfter: String(retryAfter ?? 60), .samplesWritten: "0"])
        case .seriesRefused:
            return APIError(.badRequest, code: "series_limit_exceeded", message: error.description, headers: [.samplesWritten: "0"])
        default: return .internal(error.description)
        }
    }

    /// Any error as an APIError (unknown errors become 500 with their description).
    package static func wrap(_ error: any Error) -> APIError {
        if let e = error as? APIError { return e }
        if let e = error as? TSDBError { return .from(e) }
        if let e = error as? HTTPError {
            let code: String
            switch e.status.code {
            case 404: code = "not_found"
            case 405: code = "method_not_allowed"
            case 413: code = "payload_too_large"
            case 400: code = "bad_request"
            default: code = e.status.code >= 500 ? "internal" : "error"
            }
            return APIError(e.status, code: code, message: e.body ?? e.status.reasonPhrase)
        }
        if let e = error as? any HTTPResponseError { return APIError(e.status, code: "error", message: "\(error)") }
        return .internal("\(error)")
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var w = JSONWriter(capacity: 64 + message.utf8.count)
        w.beginObject()
        w.key("error")
        w.beginObject()
        w.key("code"); w.string(code)
        w.key("message"); w.string(message)
        w.endObject()
        w.endObject()
        return w.response(status: status, headers: headers)
    }
}
