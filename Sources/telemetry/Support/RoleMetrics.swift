import Foundation
import Ingest
import Logging
import Metrics
import Prometheus

/// A role's metrics: the Prometheus registry its components count into and, for the pipeline
/// roles, the small server that serves it (`GET /metrics`, `/health`, `/status`). The broker
/// and the proxy serve the registry on their own port; `api` and `run` also make it the
/// process-wide swift-metrics backend, so the TSDB's metrics land beside the API's.
struct RoleMetrics {
    let registry = PrometheusCollectorRegistry()

    /// The registry, also bootstrapped as the swift-metrics backend (once per process: the
    /// executable owns it, never a library).
    static func processWide() -> RoleMetrics {
        let metrics = RoleMetrics()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
        return metrics
    }

    /// Starts the role's metrics server on `listen` unless it is `off`, and announces
    /// "<role> listening on HOST:PORT" (tests and scripts wait for it).
    func serve(listen: String, role: String, events: EventBroadcaster? = nil,
               status: @escaping @Sendable () -> String, logger: Logger) async throws -> RoleHTTPServer? {
        guard listen != "off" else { return nil }
        let server = try await RoleHTTPServer.start(listen: listen, registry: registry, events: events, status: status, logger: logger)
        announce("\(role) listening on \(server.host):\(server.port)")
        return server
    }
}

/// A value as the sorted-key JSON of a role's `GET /status`.
func statusJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
}

/// A line on stdout, unbuffered (tests and scripts wait for "… listening on host:port").
func announce(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
