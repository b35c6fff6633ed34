import Foundation
import Hummingbird
import Prometheus

/// JSON error bodies (`{"error": {"code", "message"}}`), shared by the broker and the proxy.
enum HTTPErrors {
    static func response(status: HTTPResponse.Status, code: String, message: String, retryAfter: Duration? = nil, extra: String = "") -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(max(1, retryAfter.components.seconds)) }
        let body = "{\(extra)\"error\":{\"code\":\(jsonString(code)),\"message\":\(jsonString(message))}}"
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

/// A JSON string literal for `s` (quotes included).
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
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

/// Standard base64 into a byte array (no per-call allocation beyond the output).
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Encodes `input` at `out` (room for `(count + 2) / 3 * 4` bytes); returns bytes written.
    static func encode(_ input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int {
        alphabet.withUnsafeBufferPointer { a in
            let n = input.count
            var i = 0, o = 0
            while i + 3 <= n {
                let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                out[o] = a[Int(v >> 18 & 63)]; out[o + 1] = a[Int(v >> 12 & 63)]
                out[o + 2] = a[Int(v >> 6 & 63)]; out[o + 3] = a[Int(v & 63)]
                i += 3; o += 4
            }
            if n - i == 1 {
                let v = UInt32(input[i]) << 16
                out[o] = a[Int(v >> 18 & 63)]; out[o + 1] = a[Int(v >> 12 & 63)]; out[o + 2] = 61; out[o + 3] = 61
                o += 4
            } else if n - i == 2 {
                let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
                out[o] = a[Int(v >> 18 & 63)]; out[o + 1] = a[Int(v >> 12 & 63)]; out[o + 2] = a[Int(v >> 6 & 63)]; out[o + 3] = 61
                o += 4
            }
            return o
        }
    }

    static func encode(_ input: [UInt8], into out: inout [UInt8]) {
        let a = alphabet
        var i = 0
        let n = input.count
        out.reserveCapacity(out.count + (n + 2) / 3 * 4)
        while i + 3 <= n {
            let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out.append(a[Int(v >> 18 & 63)]); out.append(a[Int(v >> 12 & 63)])
            out.append(a[Int(v >> 6 & 63)]); out.append(a[Int(v & 63)])
            i += 3
        }
        if n - i == 1 {
            let v = UInt32(input[i]) << 16
            out.append(a[Int(v >> 18 & 63)]); out.append(a[Int(v >> 12 & 63)]); out.append(61); out.append(61)
        } else if n - i == 2 {
            let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out.append(a[Int(v >> 18 & 63)]); out.append(a[Int(v >> 12 & 63)]); out.append(a[Int(v >> 6 & 63)]); out.append(61)
        }
    }
}
