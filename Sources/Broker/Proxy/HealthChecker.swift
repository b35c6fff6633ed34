import AsyncHTTPClient
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization

/// Checks `GET /health` of every broker on a timer, concurrently and without holding the
/// routing lock; then publishes the results in one short critical section. A refused
/// connection or an error status marks a broker down at once; a check that merely times out
/// (a busy broker) does so only the second time in a row, so load does not flap the ring.
package struct HealthChecker: Service {
    let table: RoutingTable
    private let timeouts = TimeoutCounts()
    let client: HTTPClient
    let interval: Duration
    let timeout: Duration
    let registry: PrometheusCollectorRegistry
    let logger: Logger

    package init(table: RoutingTable, client: HTTPClient, interval: Duration, timeout: Duration, registry: PrometheusCollectorRegistry, logger: Logger) {
        self.table = table; self.client = client; self.interval = interval; self.timeout = timeout
        self.registry = registry; self.logger = logger
    }

    /// Runs until graceful shutdown or cancellation, then returns normally (so the service
    /// group, and the process, end cleanly).
    package func run() async throws {
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
    package func checkOnce() async {
        let results = await withTaskGroup(of: (String, Bool).self) { group in
            for broker in table.ring.nodes {
                group.addTask {
                    var request = HTTPClientRequest(url: broker + "/health")
                    request.method = .GET
                    do {
                        let response = try await client.execute(request, timeout: timeAmount(timeout))
                        _ = try? await response.body.collect(upTo: 64 << 10)
                        timeouts.reset(broker)
                        return (broker, response.status.code == 200)
                    } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
                        return (broker, timeouts.increment(broker) < 2)
                    } catch {
                        timeouts.reset(broker)
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

/// Consecutive timed-out checks per broker.
final class TimeoutCounts: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    func increment(_ broker: String) -> Int { counts.withLock { c in c[broker, default: 0] += 1; return c[broker]! } }
    func reset(_ broker: String) { counts.withLock { _ = $0.removeValue(forKey: broker) } }
}

/// NIO's time amount for a Swift `Duration`.
func timeAmount(_ d: Duration) -> TimeAmount {
    .nanoseconds(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
}
