import Prometheus
import Synchronization

/// What a streamer has done so far (also exported at `/metrics` under the METRICS.md names).
package struct StreamerStats: Sendable, Equatable, Codable {
    package var rowsRead = 0
    /// Bad or blank rows of the input, and scraped samples that cannot be stored (non-finite
    /// values, times past Int64 nanoseconds); samples without a GPU UUID are kept.
    package var rowsSkipped = 0
    /// Rows left to the other streamers of `--shard`.
    package var rowsOtherShards = 0
    package var rowsPublished = 0
    package var batchesPublished = 0
    package var rowsDropped = 0
    package var publishRetries = 0
    package var passes = 0
    package var scrapes = 0
    package var scrapeErrors = 0
    package init() {}
}

/// What a collector has done so far (also exported at `/metrics` under the METRICS.md names).
package struct CollectorStats: Sendable, Equatable, Codable {
    package var messagesConsumed = 0
    package var samplesWritten = 0
    package var messagesAcked = 0
    package var messagesDeadLettered = 0
    package var writeFailures = 0
    package var pollErrors = 0
    package init() {}
}

/// Counters of a streamer: the Prometheus series plus an in-memory copy for tests and `/status`.
final class StreamerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let published: Counter
    private let batches: Counter
    private let dropped: Counter
    private let retries: Counter
    let publishDuration: DurationHistogram
    private let stats = Mutex(StreamerStats())

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        published = registry.makeCounter(descriptor: metricName("streamer_rows_published_total", "Rows the broker acknowledged."))
        batches = registry.makeCounter(descriptor: metricName("streamer_batches_published_total", "Messages (batches of rows) the broker acknowledged."))
        dropped = registry.makeCounter(descriptor: metricName("streamer_rows_dropped_total", "Rows given up on after all retries or at shutdown."))
        retries = registry.makeCounter(descriptor: metricName("streamer_publish_retries_total", "Publish attempts retried after a retryable failure."))
        publishDuration = registry.makeDurationHistogram(descriptor: metricName("streamer_publish_duration_seconds", "Time to publish one produce request, retries included."), buckets: latencyBuckets)
    }

    var snapshot: StreamerStats { stats.withLock { $0 } }

    func update(_ body: (inout StreamerStats) -> Void) { stats.withLock { body(&$0) } }

    func didPublish(rows: Int, batches count: Int) {
        published.increment(by: Int64(rows))
        batches.increment(by: Int64(count))
        stats.withLock { $0.rowsPublished += rows; $0.batchesPublished += count }
    }

    func didDrop(rows: Int) {
        guard rows > 0 else { return }
        dropped.increment(by: Int64(rows))
        stats.withLock { $0.rowsDropped += rows }
    }

    func didRetry() {
        retries.increment()
        stats.withLock { $0.publishRetries += 1 }
    }
}

/// Counters of a collector: the Prometheus series plus an in-memory copy for tests and `/status`.
final class CollectorMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let consumed: Counter
    private let written: Counter
    private let acked: Counter
    private let deadLettered: Counter
    let writeDuration: DurationHistogram
    private let lagGauges = Mutex<[Int: Gauge]>([:])
    private let stats = Mutex(CollectorStats())

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        consumed = registry.makeCounter(descriptor: metricName("collector_messages_consumed_total", "Broker messages received."))
        written = registry.makeCounter(descriptor: metricName("collector_samples_written_total", "Samples written durably to storage."))
        acked = registry.makeCounter(descriptor: metricName("collector_messages_acked_total", "Broker messages acknowledged."))
        deadLettered = registry.makeCounter(descriptor: metricName("collector_messages_dead_lettered_total", "Malformed messages sent to the dead-letter path."))
        writeDuration = registry.makeDurationHistogram(descriptor: metricName("collector_write_duration_seconds", "Time of one durable write to storage."), buckets: latencyBuckets)
    }

    var snapshot: CollectorStats { stats.withLock { $0 } }

    func update(_ body: (inout CollectorStats) -> Void) { stats.withLock { body(&$0) } }

    func didConsume(_ n: Int) {
        consumed.increment(by: Int64(n))
        stats.withLock { $0.messagesConsumed += n }
    }

    func didWrite(samples: Int) {
        written.increment(by: Int64(samples))
        stats.withLock { $0.samplesWritten += samples }
    }

    func didAck(_ n: Int) {
        acked.increment(by: Int64(n))
        stats.withLock { $0.messagesAcked += n }
    }

    func didDeadLetter() {
        deadLettered.increment()
        stats.withLock { $0.messagesDeadLettered += 1 }
    }

    func setLag(partition: Int, _ value: Int) {
        let gauge = lagGauges.withLock { g in
            if let existing = g[partition] { return existing }
            let made = registry.makeGauge(
                descriptor: metricName("collector_lag", "Records of the partition not yet acked by this collector's group."),
                labels: [("partition", String(partition))])
            g[partition] = made
            return made
        }
        gauge.set(Double(value))
    }
}

/// A metric name with its help text (no namespace, no unit suffix: the names of METRICS.md).
func metricName(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}

/// Latency buckets shared by the pipeline's histograms (1 ms … 5 s).
let latencyBuckets: [Duration] = [
    .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
    .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
]
