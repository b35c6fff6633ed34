import Foundation
import Logging
import Prometheus
import Synchronization

/// Publishes DCGM rows — from CSV files or scraped dcgm-exporter endpoints — to a broker topic,
/// keyed by GPU UUID so one GPU's rows stay in order in one partition. Retries retryable
/// failures with backoff and jitter, counts what it finally drops, and stops within
/// `shutdownGrace` even when the broker is down.
///
/// ```swift
/// var config = StreamerConfig(inputs: ["dcgm.csv"])
/// let streamer = Streamer(config: config, client: HTTPBrokerClient(baseURL: "http://127.0.0.1:8081"))
/// let stats = try await streamer.run()     // returns when the input is published
/// ```
public final class Streamer: Sendable {
    public let config: StreamerConfig
    /// What the streamer publishes, as Server-Sent Events (served at `GET /events`).
    public let events: EventBroadcaster
    let client: any BrokerClient
    let metrics: StreamerMetrics
    let logger: Logger
    private let control = Mutex<Control>(Control())

    private struct Control {
        var stopped = false
        var work: Task<Void, any Error>?
        var publisher: PartitionPublisher?
    }

    public init(config: StreamerConfig, client: any BrokerClient,
                registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                events: EventBroadcaster = EventBroadcaster(), logger: Logger = Logger(label: "streamer")) {
        self.config = config
        self.client = client
        self.events = events
        self.metrics = StreamerMetrics(registry: registry)
        self.logger = logger
    }

    public var stats: StreamerStats { metrics.snapshot }
    public var registry: PrometheusCollectorRegistry { metrics.registry }

    /// Asks ``run()`` to stop reading, publish what is queued within `shutdownGrace`, count the
    /// rest as dropped, and return.
    public func stop() {
        let (work, publisher) = control.withLock { c -> (Task<Void, any Error>?, PartitionPublisher?) in
            c.stopped = true
            return (c.work, c.publisher)
        }
        work?.cancel()
        if let publisher { scheduleAbort(publisher) }
    }

    var isStopped: Bool { control.withLock { $0.stopped } }

    private func scheduleAbort(_ publisher: PartitionPublisher) {
        let grace = config.shutdownGrace
        Task {
            try? await Task.sleep(for: grace)
            await publisher.abort()
        }
    }

    /// Streams the inputs (once, or forever with `loop`, and scrapes until stopped); returns the
    /// final counts once everything queued is published or dropped.
    @discardableResult
    public func run() async throws -> StreamerStats {
        try config.validate()
        let files = try InputFiles.expand(config.inputs)
        let partitions: Int
        if let configured = config.partitions {
            partitions = configured
        } else {
            partitions = try await config.retry.run { try await client.partitionCount(topic: config.topic) }
        }
        let publisher = PartitionPublisher(
            client: client, topic: config.topic, partitions: partitions, retry: config.retry,
            messagesPerRequest: config.messagesPerRequest, maxQueuedBatches: config.maxQueuedBatches,
            metrics: metrics, events: events, logger: logger)
        let partitioner = Partitioner(partitions: partitions)
        let work = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                if !files.isEmpty {
                    group.addTask { try await self.streamFiles(files, partitioner: partitioner, publisher: publisher) }
                }
                for url in self.config.scrapeURLs {
                    group.addTask { try await self.scrapeLoop(url: url, partitioner: partitioner, publisher: publisher) }
                }
                try await group.waitForAll()
            }
        }
        let alreadyStopped = control.withLock { c in
            c.work = work
            c.publisher = publisher
            return c.stopped
        }
        if alreadyStopped { stop() }
        let outcome = await withTaskCancellationHandler {
            await work.result
        } onCancel: {
            self.stop()
        }
        await publisher.waitIdle()
        let final = metrics.snapshot
        logger.info("streamer finished", metadata: [
            "published": "\(final.rowsPublished)", "batches": "\(final.batchesPublished)",
            "dropped": "\(final.rowsDropped)", "retries": "\(final.publishRetries)",
        ])
        if case .failure(let error) = outcome, !(error is CancellationError) { throw error }
        return final
    }

    // MARK: Files

    private func streamFiles(_ files: [String], partitioner: Partitioner, publisher: PartitionPublisher) async throws {
        var rewriter = TimestampRewriter(mode: config.effectiveTimestamps)
        var limiter = RateLimiter(rate: config.rate)
        var batcher = RowBatcher(partitioner: partitioner, batchRows: config.batchRows)
        repeat {
            let start = rewriter.nextPassStart(now: wallClockNanos())
            let wait = start - wallClockNanos()
            if wait > 0 { try await Task.sleep(for: .nanoseconds(wait)) }
            rewriter.beginPass()
            for file in files {
                try await streamFile(file, rewriter: &rewriter, limiter: &limiter, batcher: &batcher, publisher: publisher)
            }
            for (p, rows) in batcher.drain() { await publisher.enqueue(partition: p, rows: rows) }
            metrics.update { $0.passes += 1 }
        } while config.loop && !Task.isCancelled && !isStopped
    }

    private func streamFile(_ path: String, rewriter: inout TimestampRewriter, limiter: inout RateLimiter,
                            batcher: inout RowBatcher, publisher: PartitionPublisher) async throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw DCGMError.unreadable(path: path, message: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        // With a rate, read about a tenth of a second of rows at a time so sends stay smooth.
        let chunkSize = config.rate.map { min(1 << 20, max(4096, Int($0 * 40))) } ?? (1 << 20)
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var parser = DCGMCSVParser(strict: false)
        var rows: [DCGMRecord] = []
        var lastFlush = ContinuousClock.now
        while true {
            try Task.checkCancellation()
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunkSize) }
            if n < 0 { throw DCGMError.unreadable(path: path, message: String(cString: strerror(errno))) }
            if n == 0 {
                try parser.finish { rows.append($0) }
            } else {
                try buffer.withUnsafeBytes { raw in
                    try parser.feed(UnsafeRawBufferPointer(rebasing: raw[0..<n])) { rows.append($0) }
                }
            }
            try await publish(&rows, rewriter: &rewriter, limiter: &limiter, batcher: &batcher, publisher: publisher)
            if config.rate != nil, ContinuousClock.now - lastFlush >= config.linger {
                for (p, partial) in batcher.drain() { await publisher.enqueue(partition: p, rows: partial) }
                lastFlush = ContinuousClock.now
            }
            if n == 0 { break }
        }
        let stats = parser.stats
        if stats.badRows > 0 || stats.blankSkipped > 0 {
            logger.warning("skipped rows while reading", metadata: [
                "file": "\(path)", "bad": "\(stats.badRows)", "blank": "\(stats.blankSkipped)",
                "first": "\(stats.problems.first.map { "line \($0.line): \($0.message)" } ?? "-")",
            ])
        }
        metrics.update { $0.rowsSkipped += stats.badRows + stats.blankSkipped }
    }

    /// Shards, re-stamps, batches and queues rows; empties `rows`.
    func publish(_ rows: inout [DCGMRecord], rewriter: inout TimestampRewriter, limiter: inout RateLimiter,
                 batcher: inout RowBatcher, publisher: PartitionPublisher) async throws {
        guard !rows.isEmpty else { return }
        let now = wallClockNanos()
        var kept = 0
        for var row in rows where config.shard.owns(uuid: row.uuid) {
            kept += 1
            row.timestamp = rewriter.map(row.timestamp, now: now)
            if let full = batcher.add(row) {
                await publisher.enqueue(partition: full.partition, rows: full.rows)
            }
        }
        let read = rows.count
        metrics.update { $0.rowsRead += read; $0.rowsSkipped += read - kept }
        rows.removeAll(keepingCapacity: true)
        try await limiter.acquire(kept)
    }
}
