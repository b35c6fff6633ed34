import Prometheus
import Synchronization

/// The API's Prometheus metrics (names fixed in METRICS.md), on the server's own registry.
/// Label values are route templates, never raw paths, so cardinality stays bounded.
final class APIMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let rateLimited: Counter
    let samplesWritten: Counter
    /// remote_write: requests decoded, samples stored, requests refused (malformed or over
    /// the limit), exemplars/histograms skipped, samples refused as too old.
    let remoteWriteRequests: Counter
    let remoteWriteSamples: Counter
    let remoteWriteRefused: Counter
    let remoteWriteSkipped: Counter
    let remoteWriteOutOfWindow: Counter
    private let counters = Mutex<[String: Counter]>([:])
    private let histograms = Mutex<[String: DurationHistogram]>([:])

    static let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        rateLimited = registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "api_rate_limited", unitName: "total", helpText: ""))
        samplesWritten = registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "api_samples_written", unitName: "total", helpText: ""))
        func counter(_ name: String) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "total", helpText: ""))
        }
        remoteWriteRequests = counter("api_remote_write_requests")
        remoteWriteSamples = counter("api_remote_write_samples")
        remoteWriteRefused = counter("api_remote_write_refused")
        remoteWriteSkipped = counter("api_remote_write_skipped")
        remoteWriteOutOfWindow = counter("api_remote_write_out_of_window")
    }

    func record(route: String, method: String, status: Int, duration: Duration) {
        let counterKey = "\(route)\u{0}\(method)\u{0}\(status)"
        let counter = counters.withLock { map in
            if let c = map[counterKey] { return c }
            let c = registry.makeCounter(
                descriptor: MetricNameDescriptor(metricName: "http_requests", unitName: "total", helpText: ""),
                labels: [("route", route), ("method", method), ("status", String(status))])
            map[counterKey] = c
            return c
        }
        counter.increment()
        let histogramKey = "\(route)\u{0}\(method)"
        let histogram = histograms.withLock { map in
            if let h = map[histogramKey] { return h }
            let h = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(metricName: "http_request_duration", unitName: "seconds", helpText: ""),
                labels: [("route", route), ("method", method)], buckets: Self.buckets)
            map[histogramKey] = h
            return h
        }
        histogram.record(duration)
    }
}
