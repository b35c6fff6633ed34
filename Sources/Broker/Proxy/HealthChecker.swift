import AsyncHTTPClient
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// Checks `GET /health` of every broker on a timer, concurrently and without holding the
/// routing lock; then publishes the results in one short critical section.
public struct HealthChecker: Service {
    let table: RoutingTable
    let client: HTTPClient
    let interval: Duration
    let timeout: Duration
    let registry: PrometheusCollectorRegistry
    let logger: Logger

    public init(table: RoutingTable, client: HTTPClient, interval: Duration, timeout: Duration, registry: PrometheusCollectorRegistry, logger: Logger) {
        self.table = table; self.client = client; self.interval = interval; self.timeout = timeout
        self.registry = registry; self.logger = logger
    }

    /// Runs until graceful shutdown or cancellation, then returns normally (so the service
    /// group, and the process, end cleanly).
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    await checkOnce()
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            return
        }
    }

    /// One round of checks (also used by tests to avoid waiting for the timer).
    public func checkOnce() async {
        let results = await withTaskGroup(of: (String, Bool).self) { group in
            for broker in table.ring.nodes {
                group.addTask {
                    var request = HTTPClientRequest(url: broker + "/health")
                    request.method = .GET
                    do {
                        let response = try await client.execute(request, timeout: timeAmount(timeout))
                        _ = try? await response.body.collect(upTo: 64 << 10)
                        return (broker, response.status.code == 200)
                    } catch {
                        return (broker, false)
                    }
                }
            }
            var out: [String: Bool] = [:]
            for await (b, ok) in group { out[b] = ok }
            return out
        }
        for b in table.update(results) {
            logger.warning("broker health changed", metadata: ["broker": "\(b)", "up": "\(results[b] ?? false)"])
        }
        for (b, ok) in results {
            registry.makeGauge(descriptor: metricName("proxy_broker_up", "1 when the broker answered its last health check"), labels: [("broker", b)]).set(ok ? 1.0 : 0.0)
        }
    }
}

/// NIO's time amount for a Swift `Duration`.
func timeAmount(_ d: Duration) -> TimeAmount {
    .nanoseconds(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
}
