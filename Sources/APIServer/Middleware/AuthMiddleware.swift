import Foundation
import HTTPTypes
import Hummingbird

/// API keys from `X-API-Key` or `Authorization: Bearer <key>` (and, on the routes whose
/// ``Route/credentials`` allow it, InfluxDB's `Authorization: Token <key>`, HTTP Basic with the
/// key as the password, or InfluxDB 1.x's `?p=<key>`), compared in constant time.
/// Any other scheme is refused, never ignored.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let keys: [[UInt8]]
    let serviceToken: [UInt8]?
    let insecureNoAuth: Bool

    init(config: APIServerConfig) {
        keys = config.apiKeys.map { Array($0.utf8) }
        serviceToken = config.serviceToken.map { Array($0.utf8) }
        insecureNoAuth = config.insecureNoAuth
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        // The class comes from the route the router matched, never from the raw path: see
        // ``RouteTable``. A request that matched no route needs a key (it gets 404 or 405 with
        // one), so probing for paths or methods reveals nothing without a credential.
        let route = RouteTable.matched(context.endpointPath)
        switch route?.access ?? .apiKey {
        case .open:
            break
        case .apiKey:
            if insecureNoAuth && keys.isEmpty {
                context.principal = "anonymous:\(context.remoteAddress ?? "-")"
            } else {
                let presented = try credential(request, forms: route?.credentials ?? .standard)
                guard let index = Self.match(presented, against: keys) else {
                    throw APIError.unauthorized("the API key is not valid")
                }
                context.principal = "key#\(index)"
            }
        case .serviceToken:
            if let token = serviceToken {
                let presented = try credential(request, forms: .standard, allowAPIKeyHeader: false)
                guard Self.match(presented, against: [token]) != nil else {
                    throw APIError.unauthorized("the service token is not valid")
                }
            } else if !insecureNoAuth {
                throw APIError.unauthorized("the internal write endpoint is disabled: no SERVICE_TOKEN is configured")
            }
            context.principal = "service"
        }
        return try await next(request, context)
    }

    func credential(_ request: Request, forms: CredentialForms, allowAPIKeyHeader: Bool = true) throws(APIError) -> [UInt8] {
        if allowAPIKeyHeader, let key = request.headers[.xAPIKey] {
            return Array(key.utf8)
        }
        guard let auth = request.headers[.authorization] else {
            // InfluxDB 1.x clients may put the credentials in the query string (`?u=&p=`).
            if forms == .influxV1, let p = try? QueryParameters(request.uri).string("p") {
                return Array(p.utf8)
            }
            throw APIError.unauthorized(allowAPIKeyHeader
                ? "missing credentials: send X-API-Key: <key> or Authorization: Bearer <key>"
                : "missing credentials: send Authorization: Bearer <service token>")
        }
        let parts = auth.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let scheme = parts.first.map { $0.lowercased() } ?? ""
        // Grafana's "Basic auth" and InfluxDB clients send the key as the password of HTTP
        // Basic; only on their routes.
        if forms != .standard, scheme == "basic", parts.count == 2,
           let decoded = Data(base64Encoded: String(parts[1])), let colon = decoded.firstIndex(of: UInt8(ascii: ":")) {
            return Array(decoded[decoded.index(after: colon)...])
        }
        let tokenScheme = forms == .influxV1 || forms == .influxV2
        guard parts.count == 2, scheme == "bearer" || (tokenScheme && scheme == "token") else {
            throw APIError.unauthorized("unsupported authorization scheme \"\(parts.first ?? "")\"; use Authorization: Bearer <key> or X-API-Key")
        }
        return Array(parts[1].utf8)
    }

    /// Index of the matching key, comparing against every key in time independent of where
    /// (or whether) the bytes differ.
    static func match(_ presented: [UInt8], against keys: [[UInt8]]) -> Int? {
        var found: Int?
        for (index, key) in keys.enumerated() where constantTimeEqual(presented, key) {
            found = index
        }
        return found
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt64(a.count ^ b.count)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= UInt64(x ^ y)
        }
        return diff == 0
    }
}

extension HTTPField.Name {
    static let xAPIKey = HTTPField.Name("X-API-Key")!
}
