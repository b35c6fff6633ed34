import Prometheus
import Synchronization

/// The broker's Prometheus metrics (names from METRICS.md), on the server's own registry.
final class BrokerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let fsyncDuration: DurationHistogram
    private let counters = Mutex<[String: Counter]>([:])
    private let gauges = Mutex<[String: Gauge]>([:])

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        fsyncDuration = registry.makeDurationHistogram(
            descriptor: metricName("broker_fsync_duration_seconds", "Duration of one fsync of a segment or group state file"),
            buckets: [.microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                      .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1)])
    }

    func counter(_ name: String, _ labels: [(String, String)]) -> Counter {
        Self.cached(counters, name, labels) { registry.makeCounter(descriptor: metricName(name, ""), labels: labels) }
    }

    func gauge(_ name: String, _ labels: [(String, String)]) -> Gauge {
        Self.cached(gauges, name, labels) { registry.makeGauge(descriptor: metricName(name, ""), labels: labels) }
    }

    /// The metric of `name` and `labels` in `cache`, made (and registered) on first use.
    private static func cached<Metric: Sendable>(_ cache: borrowing Mutex<[String: Metric]>, _ name: String, _ labels: [(String, String)],
                                       make: () -> Metric) -> Metric {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        return cache.withLock { cache in
            if let m = cache[key] { return m }
            let m = make()
            cache[key] = m
            return m
        }
    }

    func produced(_ topic: String, _ n: Int) { counter("broker_records_produced_total", [("topic", topic)]).increment(by: Int64(n)) }
    func delivered(_ topic: String, _ n: Int) { counter("broker_records_delivered_total", [("topic", topic)]).increment(by: Int64(n)) }
    func redelivered(_ topic: String, _ n: Int) { counter("broker_redeliveries_total", [("topic", topic)]).increment(by: Int64(n)) }
    func deadLettered(_ topic: String, _ n: Int) { counter("broker_dead_letters_total", [("topic", topic)]).increment(by: Int64(n)) }
    func rejected(_ reason: String) { counter("broker_produce_rejected_total", [("reason", reason)]).increment() }

    func groupState(topic: String, partition: Int, group: String, pending: Int, lag: Int) {
        let labels = [("topic", topic), ("partition", String(partition)), ("group", group)]
        gauge("broker_pending", labels).set(Double(pending))
        gauge("broker_lag", labels).set(Double(lag))
    }
}

/// A full metric name as a descriptor (the non-deprecated registry API wants one).
func metricName(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}
