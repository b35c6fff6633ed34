import Foundation

/// Everything a ``Streamer`` needs; every default lives here (and in README-ingest).
package struct StreamerConfig: Sendable {
    /// CSV files or directories (their `*.csv` files, sorted by name). Empty with ``scrapeURLs``.
    package var inputs: [String] = []
    /// Replay the inputs forever.
    package var loop = false
    /// nil: `shift` when looping, `original` otherwise.
    package var timestamps: TimestampMode?
    /// Rows per second over all partitions; nil sends as fast as the broker accepts.
    package var rate: Double?
    /// Rows per broker message.
    package var batchRows = 500
    /// Messages per produce request (batch produce) for one partition.
    package var messagesPerRequest = 8
    /// Messages waiting in memory before the reader blocks (back-pressure).
    package var maxQueuedBatches = 64
    package var topic = "telemetry"
    /// nil: ask the broker.
    package var partitions: Int?
    package var shard = Shard.all
    package var retry = RetryPolicy(attempts: 3)
    /// dcgm-exporter endpoints to poll instead of (or besides) files.
    package var scrapeURLs: [String] = []
    package var scrapeInterval: Duration = .seconds(15)
    /// `job` label added to scraped series (like Prometheus does).
    package var scrapeJob = "dcgm-exporter"
    /// A file holding the Bearer token sent with every scrape (dcgm-exporter behind
    /// kube-rbac-proxy); re-read whenever it changes, so a rotated token is picked up.
    package var scrapeBearerTokenFile: String?
    /// PEM file of the CA certificates that sign the scrape targets' TLS certificates; only
    /// they are trusted (nil: the system's trust store).
    package var scrapeCAFile: String?
    /// How long a stop waits for queued batches before dropping (and counting) them.
    package var shutdownGrace: Duration = .seconds(5)
    /// With a rate, partial batches go out at least this often.
    package var linger: Duration = .milliseconds(500)

    package init(inputs: [String] = []) {
        self.inputs = inputs
    }

    package var effectiveTimestamps: TimestampMode { timestamps ?? (loop ? .shift : .original) }

    package func validate() throws(PipelineConfigError) {
        if inputs.isEmpty && scrapeURLs.isEmpty {
            throw .invalid("nothing to stream: give CSV files or directories, or --scrape URL")
        }
        if batchRows < 1 { throw .invalid("--batch must be at least 1 row") }
        if let rate, !(rate > 0) { throw .invalid("--rate must be a positive number of rows per second") }
        if let partitions, partitions < 1 { throw .invalid("--partitions must be at least 1") }
        if scrapeInterval <= .zero { throw .invalid("--scrape-interval must be positive") }
        for (flag, path) in [("--scrape-bearer-token-file", scrapeBearerTokenFile), ("--scrape-ca-file", scrapeCAFile)] {
            guard let path else { continue }
            if scrapeURLs.isEmpty { throw .invalid("\(flag) applies to scrapes only; give --scrape URL too") }
            if !FileManager.default.isReadableFile(atPath: path) { throw .invalid("\(flag) \(path) is not a readable file") }
        }
    }
}

/// Everything a ``Collector`` needs; every default lives here (and in README-ingest).
package struct CollectorConfig: Sendable {
    package var topic = "telemetry"
    package var group = "collectors"
    /// Partitions this member consumes; nil consumes all of them.
    package var partitions: [Int]?
    /// nil: ask the broker.
    package var partitionCount: Int?
    /// Messages taken per poll of one partition (each holds up to `batchRows` rows).
    package var maxMessagesPerPoll = 32
    package var pollWait: Duration = .milliseconds(500)
    /// Retries of one durable write before giving up on the batch (it is not acked, so the
    /// broker redelivers it after its visibility timeout).
    package var writeRetry = RetryPolicy(attempts: 6, baseDelay: .milliseconds(100), maxDelay: .seconds(3))
    /// Where malformed messages go (nil: `<topic>.dlq`); they are acked either way.
    package var deadLetterTopic: String?

    package init() {}

    package var effectiveDeadLetterTopic: String { deadLetterTopic ?? "\(topic).dlq" }
}
