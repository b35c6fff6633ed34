import Logging
import Prometheus
import Synchronization

/// Consumes a topic's partitions as a member of a consumer group, decodes each message (a DCGM
/// CSV document), writes the rows to a ``SampleSink`` in batches and acks only after the write is
/// durable: at-least-once, which the TSDB's last-write-wins makes effectively once.
///
/// A malformed message is counted, logged with its id, copied to the dead-letter topic and acked,
/// so it is never redelivered forever. A storage failure is retried with backoff; if it persists
/// the messages are left unacked and the broker redelivers them after its visibility timeout.
///
/// ```swift
/// let collector = Collector(config: CollectorConfig(), client: InProcessBrokerClient(broker), sink: TSDBSink(db))
/// let task = Task { try await collector.run() }   // until stop() or cancellation
/// ```
package final class Collector: Sendable {
    package let config: CollectorConfig
    let client: any BrokerClient
    let sink: any SampleSink
    let metrics: CollectorMetrics
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    private let stopped = Mutex(false)

    package init(config: CollectorConfig, client: any BrokerClient, sink: any SampleSink,
                registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                logger: Logger = Logger(label: "collector")) {
        self.config = config
        self.client = client
        self.sink = sink
        self.registry = registry
        self.metrics = CollectorMetrics(registry: registry)
        self.logger = logger
    }

    package var stats: CollectorStats { metrics.snapshot }

    /// Finishes the current batches (write and ack) and makes ``run()`` return.
    package func stop() { stopped.withLock { $0 = true } }

    var isStopped: Bool { stopped.withLock { $0 } }

    /// Consumes until ``stop()`` or cancellation. Partition loops run in parallel.
    package func run() async throws {
        let count: Int
        if let configured = config.partitionCount {
            count = configured
        } else {
            count = try await RetryPolicy(attempts: 5).run { try await client.partitionCount(topic: config.topic) }
        }
        let mine = (config.partitions ?? Array(0..<count)).filter { $0 >= 0 && $0 < count }
        guard !mine.isEmpty else {
            throw PipelineConfigError.invalid("no partitions to consume: \(config.partitions ?? []) against \(count) partitions of \(config.topic)")
        }
        logger.info("collector consuming", metadata: ["topic": "\(config.topic)", "group": "\(config.group)", "partitions": "\(mine)"])
        await withTaskGroup(of: Void.self) { group in
            for p in mine {
                group.addTask { await self.consume(partition: p) }
            }
        }
    }

    private func consume(partition: Int) async {
        var pollFailures = 0
        var lastLag = ContinuousClock.now - .seconds(10)
        while !Task.isCancelled && !isStopped {
            let messages: [ConsumedMessage]
            do {
                messages = try await client.poll(topic: config.topic, partition: partition, group: config.group,
                                                 maxRecords: config.maxMessagesPerPoll, wait: config.pollWait)
                pollFailures = 0
            } catch {
                if Task.isCancelled { return }
                metrics.update { $0.pollErrors += 1 }
                pollFailures += 1
                logger.warning("poll failed", metadata: ["partition": "\(partition)", "error": "\(error)"])
                let delay = RetryPolicy(attempts: 100, baseDelay: .milliseconds(100), maxDelay: .seconds(2))
                    .delay(retry: min(pollFailures, 10), retryAfter: (error as? BrokerClientError)?.retryAfter)
                try? await Task.sleep(for: delay)
                continue
            }
            if !messages.isEmpty {
                metrics.didConsume(messages.count)
                await process(messages, partition: partition)
            }
            if ContinuousClock.now - lastLag >= .seconds(1) {
                lastLag = ContinuousClock.now
                await updateLag(partition: partition, inHand: messages.count)
            }
        }
    }

    /// The broker's lag for this group when the client can ask; otherwise what this member has
    /// received and not yet acked.
    private func updateLag(partition: Int, inHand: Int) async {
        let lag = await client.lag(topic: config.topic, partition: partition, group: config.group)
        metrics.setLag(partition: partition, lag ?? inHand)
    }

    /// Writes durably, then acks. Malformed messages go to the dead-letter path and the rest is
    /// written again at once; other failures leave the messages unacked for redelivery.
    func process(_ messages: [ConsumedMessage], partition: Int) async {
        var pending = messages
        var deadIDs: [String] = []
        while !pending.isEmpty {
            let start = ContinuousClock.now
            do {
                let documents = pending.map(\.payload)
                let written = try await config.writeRetry.run(onRetry: { attempt, error in
                    self.metrics.update { $0.writeFailures += 1 }
                    self.logger.warning("write failed, retrying", metadata: [
                        "partition": "\(partition)", "attempt": "\(attempt + 1)", "error": "\(error)",
                    ])
                }) {
                    try await sink.write(documents: documents)
                }
                metrics.writeDuration.record(ContinuousClock.now - start)
                metrics.didWrite(samples: written)
                await ack(pending.map(\.id) + deadIDs, partition: partition)
                return
            } catch SinkError.malformed(let index, let reason) {
                // Find the bad messages (the sink may say which), dead-letter them, write the rest.
                let bad: [Int]
                if let index, index < pending.count {
                    bad = [index]
                } else {
                    bad = pending.indices.filter { (try? MessageCodec.validate(pending[$0].payload)) == nil }
                }
                guard !bad.isEmpty else {
                    metrics.update { $0.writeFailures += 1 }
                    logger.error("storage rejects messages that parse here; leaving them unacked", metadata: [
                        "partition": "\(partition)", "messages": "\(pending.count)", "reason": "\(reason)",
                    ])
                    await ack(deadIDs, partition: partition)
                    return
                }
                for i in bad.reversed() {
                    let m = pending.remove(at: i)
                    let why: String
                    do { _ = try MessageCodec.validate(m.payload); why = reason } catch { why = error.description }
                    if await deadLetter(m, partition: partition, reason: why) { deadIDs.append(m.id) }
                }
            } catch {
                // Not acked: the broker redelivers these after its visibility timeout.
                metrics.update { $0.writeFailures += 1 }
                logger.error("write failed; leaving messages unacked for redelivery", metadata: [
                    "partition": "\(partition)", "messages": "\(pending.count)", "error": "\(error)",
                ])
                await ack(deadIDs, partition: partition)
                return
            }
        }
        await ack(deadIDs, partition: partition)   // every message was malformed
    }

    private func ack(_ ids: [String], partition: Int) async {
        guard !ids.isEmpty else { return }
        do {
            _ = try await RetryPolicy(attempts: 3, baseDelay: .milliseconds(50)).run {
                try await client.ack(topic: config.topic, partition: partition, group: config.group, ids: ids)
            }
            metrics.didAck(ids.count)
        } catch {
            // The data is stored; a redelivery is harmless (last write wins).
            logger.warning("ack failed; the broker will redeliver (harmless)", metadata: [
                "partition": "\(partition)", "messages": "\(ids.count)", "error": "\(error)",
            ])
        }
    }

    /// Copies a malformed message to the dead-letter topic. Returns whether to ack it: yes once
    /// copied, or when the broker has no such topic (the log line is then the dead-letter record);
    /// no when the broker is briefly unavailable (it comes back and is tried again, and the broker's
    /// own delivery limit dead-letters it if this keeps failing).
    private func deadLetter(_ message: ConsumedMessage, partition: Int, reason: String) async -> Bool {
        let preview = String(decoding: message.payload.prefix(200), as: UTF8.self)
        do {
            _ = try await client.produce(topic: config.effectiveDeadLetterTopic, partition: 0, payloads: [message.payload])
            logger.error("malformed message dead-lettered", metadata: [
                "id": "\(message.id)", "partition": "\(partition)", "reason": "\(reason)",
                "dlq": "\(config.effectiveDeadLetterTopic)", "bytes": "\(message.payload.count)",
            ])
        } catch let error as BrokerClientError where error.isRetryable {
            logger.warning("malformed message; dead-letter topic unavailable, leaving it for redelivery", metadata: [
                "id": "\(message.id)", "partition": "\(partition)", "reason": "\(reason)", "error": "\(error)",
            ])
            return false
        } catch {
            logger.error("malformed message dropped (no dead-letter topic)", metadata: [
                "id": "\(message.id)", "partition": "\(partition)", "reason": "\(reason)",
                "error": "\(error)", "payload": "\(preview)",
            ])
        }
        metrics.didDeadLetter()
        return true
    }
}
