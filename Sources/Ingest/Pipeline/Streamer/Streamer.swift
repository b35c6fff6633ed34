import Foundation
import Logging
import Primitives
import Prometheus
import Synchronization
import TSDB

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
package final class Streamer: Sendable {
    package let config: StreamerConfig
    /// What the streamer publishes, as Server-Sent Events (served at `GET /events`).
    package let events: EventBroadcaster
    let client: any BrokerClient
    let metrics: StreamerMetrics
    let logger: Logger
    private let control = Mutex<Control>(Control())

    private struct Control {
        var stopped = false
        var work: Task<Void, any Error>?
        var publisher: PartitionPublisher?
    }

    package init(config: StreamerConfig, client: any BrokerClient,
                registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                events: EventBroadcaster = EventBroadcaster(), logger: Logger = Logger(label: "streamer")) {
        self.config = config
        self.client = client
        self.events = events
        self.metrics = StreamerMetrics(registry: registry)
        self.logger = logger
    }

    package var stats: StreamerStats { metrics.snapshot }
    package var registry: PrometheusCollectorRegistry { metrics.registry }

    /// Asks ``run()`` to stop reading, publish what is queued within `shutdownGrace`, count the
    /// rest as dropped, and return.
    package func stop() {
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
    package func run() async throws -> StreamerStats {
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
        // Bad --scrape-ca-file / --scrape-bearer-token-file stop the start, not each scrape.
        var http: ScrapeClient?
        if !config.scrapeURLs.isEmpty {
            http = try ScrapeClient(caFile: config.scrapeCAFile, bearerTokenFile: config.scrapeBearerTokenFile)
        }
        let scrapeClient = http
        let work = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                if !files.isEmpty {
                    group.addTask { try await self.streamFiles(files, partitions: partitions, publisher: publisher) }
                }
                if let http = scrapeClient {
                    for url in self.config.scrapeURLs {
                        group.addTask { try await self.scrapeLoop(url: url, http: http, partitions: partitions, publisher: publisher) }
                    }
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
        await scrapeClient?.shutdown()
        let final = metrics.snapshot
        logger.info("streamer finished", metadata: [
            "published": "\(final.rowsPublished)", "batches": "\(final.batchesPublished)",
            "dropped": "\(final.rowsDropped)", "retries": "\(final.publishRetries)",
        ])
        if case .failure(let error) = outcome, !(error is CancellationError) { throw error }
        return final
    }

    // MARK: Files

    private func streamFiles(_ files: [String], partitions: Int, publisher: PartitionPublisher) async throws {
        var state = PublishState(mode: config.effectiveTimestamps, rate: config.rate, partitions: partitions, batchRows: config.batchRows)
        repeat {
            let start = state.rewriter.nextPassStart(now: wallClockNanos())
            let wait = start - wallClockNanos()
            if wait > 0 { try await Task.sleep(for: .nanoseconds(wait)) }
            state.rewriter.beginPass()
            for file in files {
                try await streamFile(file, state: &state, publisher: publisher)
            }
            for (p, m) in state.batcher.drain() { await publisher.enqueue(partition: p, message: m) }
            metrics.update { $0.passes += 1 }
        } while config.loop && !Task.isCancelled && !isStopped
    }

    private func streamFile(_ path: String, state: inout PublishState, publisher: PartitionPublisher) async throws {
        // With a rate, read about a tenth of a second of rows at a time so sends stay smooth.
        let chunkSize = config.rate.map { min(1 << 20, max(4096, Int($0 * 40))) } ?? (1 << 20)
        var reader = try ChunkedFileReader(path: path, chunkSize: chunkSize)
        var parser = DCGMCSVParser(strict: false)
        var lastFlush = ContinuousClock.now
        let shard = config.shard
        while true {
            try Task.checkCancellation()
            let more = try reader.next { chunk in try state.feed(&parser, chunk, shard: shard) } != nil
            if !more { try state.feed(&parser, nil, shard: shard) }
            try await state.flushReady(to: publisher, metrics: metrics)
            if config.rate != nil, ContinuousClock.now - lastFlush >= config.linger {
                for (p, m) in state.batcher.drain() { await publisher.enqueue(partition: p, message: m) }
                lastFlush = ContinuousClock.now
            }
            if !more { break }
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
}

/// The reader's side of publishing: timestamps, batching, rate, and the messages that filled up
/// while parsing a chunk (queued after the chunk, since parsing cannot suspend).
struct PublishState {
    var rewriter: TimestampRewriter
    var limiter: RateLimiter
    var batcher: PayloadBatcher
    var ready: [(partition: Int, message: OutgoingMessage)] = []
    var rowsRead = 0
    var rowsKept = 0

    init(mode: TimestampMode, rate: Double?, partitions: Int, batchRows: Int) {
        rewriter = TimestampRewriter(mode: mode)
        limiter = RateLimiter(rate: rate)
        batcher = PayloadBatcher(partitions: partitions, batchRows: batchRows)
    }

    /// Parses a chunk (nil: end of input) and batches its rows.
    mutating func feed(_ parser: inout DCGMCSVParser, _ chunk: UnsafeRawBufferPointer?, shard: Shard) throws {
        let now = wallClockNanos()
        let rewrite = rewriter.mode != .original
        let onRow: (borrowing DCGMRow) throws -> Void = { row in
            self.rowsRead += 1
            if shard.count > 1 {
                guard Int(XXHash64.hash(row.raw(4), seed: Shard.seed) % UInt64(shard.count)) == shard.index else { return }
            }
            self.rowsKept += 1
            let ts: Int64? = rewrite ? self.rewriter.map(row.timestamp, now: now) : nil
            if let full = self.batcher.add(row, timestamp: ts) { self.ready.append(full) }
        }
        if let chunk {
            try parser.feedRows(chunk, onRow)
        } else {
            try parser.finishRows(onRow)
        }
    }

    /// Queues the full messages, then waits as the rate asks.
    mutating func flushReady(to publisher: PartitionPublisher, metrics: StreamerMetrics) async throws {
        let (read, kept) = (rowsRead, rowsKept)
        metrics.update { $0.rowsRead += read; $0.rowsOtherShards += read - kept }
        rowsRead = 0
        rowsKept = 0
        let ready = self.ready
        self.ready.removeAll(keepingCapacity: true)
        for (p, m) in ready { await publisher.enqueue(partition: p, message: m) }
        try await limiter.acquire(kept)
    }
}
