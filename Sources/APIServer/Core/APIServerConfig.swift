import Foundation
import HTTPServing
import TSDB

/// Everything the API server needs to know, read once at start; every default lives here and
/// in README-api.md.
///
/// ```swift
/// var config = APIServerConfig()
/// config.port = 8080
/// config.apiKeys = ["s3cret"]
/// ```
package struct APIServerConfig: Sendable {
    /// Address to bind (default 127.0.0.1).
    package var host: String = "127.0.0.1"
    /// Port to bind; 0 picks a free one (see `onServerRunning`).
    package var port: Int = 8080
    /// Accepted API keys (several at once allow rotation).
    package var apiKeys: [String] = []
    /// The token the collector presents on `POST /internal/v1/write`.
    package var serviceToken: String?
    /// Serve without any key. The server refuses to start with no key unless this is set.
    package var insecureNoAuth: Bool = false
    /// Token bucket per key: sustained requests per second (0 disables rate limiting).
    package var rateLimitPerSecond: Double = 200
    /// Token bucket per key: burst size.
    package var rateLimitBurst: Double = 400
    /// Origins allowed by CORS; `*` allows any; empty disables CORS headers.
    package var corsOrigins: [String] = []
    /// Largest request body accepted (413 above).
    package var maxBodyBytes: Int = 64 * 1024 * 1024
    /// Default and largest `limit` of list endpoints (GPUs, hosts, namespaces, metrics). The
    /// largest page (100,000 full GPU records, about 33 MB; with `fields=uuid` about 5 MB)
    /// holds a 1,000,000-series fleet's ~83,000 GPUs in one request.
    package var defaultListLimit: Int = 100
    package var maxListLimit: Int = 100_000
    /// Default and largest `limit` of sample endpoints (telemetry).
    package var defaultSampleLimit: Int = 1_000
    package var maxSampleLimit: Int = 100_000
    /// Bounds on what one query may touch (422 above); nil uses the database's own limits.
    package var queryLimits: QueryLimits?
    /// Most points a single Grafana series may return (maxDataPoints is capped to this).
    package var maxGrafanaPoints: Int = 11_000
    /// Most targets one `POST /grafana/query` may carry (400 `grafana_targets_limit_exceeded`
    /// above; `--max-grafana-targets`, default 100).
    package var maxGrafanaTargets: Int = 100
    /// Most live streams (SSE subscribers) open at once (429 `stream_limit_exceeded` above;
    /// `--max-stream-subscribers`, default 256).
    package var maxStreamSubscribers: Int = 256
    /// Interval of SSE heartbeats on live streams.
    package var streamHeartbeatSeconds: Double = 15
    /// How long a connection may keep the server waiting (`--idle-timeout`, `--read-timeout`,
    /// `--write-timeout`): slow clients are closed, never holding a worker or unbounded memory.
    package var httpTimeouts: HTTPTimeouts = .defaults
    /// Write structured access logs at info level.
    package var accessLog: Bool = true

    package init() {}

    /// Fails when the configuration cannot serve safely.
    package func validate() throws(APIConfigError) {
        if apiKeys.isEmpty && !insecureNoAuth { throw .noKeys }
        if !(0...65535).contains(port) { throw .badValue("port \(port) is outside 0...65535") }
        if rateLimitPerSecond < 0 || rateLimitBurst < 1 && rateLimitPerSecond > 0 {
            throw .badValue("rate limit needs a rate >= 0 and a burst >= 1")
        }
        if maxGrafanaTargets < 1 { throw .badValue("--max-grafana-targets must be at least 1") }
        if maxStreamSubscribers < 1 { throw .badValue("--max-stream-subscribers must be at least 1") }
        do { try httpTimeouts.validate() } catch { throw .badValue(error.description) }
        if maxBodyBytes < 1 { throw .badValue("max body bytes must be positive") }
        if defaultListLimit < 1 || maxListLimit < defaultListLimit { throw .badValue("list limits need 1 <= default <= max") }
        if defaultSampleLimit < 1 || maxSampleLimit < defaultSampleLimit { throw .badValue("sample limits need 1 <= default <= max") }
    }
}

/// Why a configuration was refused.
package enum APIConfigError: Error, Sendable, CustomStringConvertible {
    case noKeys
    case badValue(String)

    package var description: String {
        switch self {
        case .noKeys:
            return "no API key configured: set API_KEY (comma-separated for rotation) or API_KEY_FILE, or pass --insecure-no-auth to serve without authentication"
        case .badValue(let m): return "invalid API configuration: \(m)"
        }
    }
}
