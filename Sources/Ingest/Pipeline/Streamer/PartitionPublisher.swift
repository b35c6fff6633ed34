import Logging
import Primitives

/// Publishes batches of rows to a topic's partitions: one worker per partition sends that
/// partition's batches strictly in order (so one GPU's rows stay ordered), partitions proceed in
/// parallel, and at most `maxQueuedBatches` wait in memory (``enqueue(partition:rows:)`` suspends
/// beyond that: the back-pressure that slows the reader when the broker is slow). A batch that
/// fails all retries is dropped, counted and logged.
actor PartitionPublisher {
    private let client: any BrokerClient
    private let topic: String
    private let retry: RetryPolicy
    private let messagesPerRequest: Int
    private let maxQueuedBatches: Int
    private let metrics: StreamerMetrics
    private let events: EventBroadcaster?
    private let logger: Logger

    private var queues: [[OutgoingMessage]]
    private var running: [Bool]
    private var queued = 0
    private var inFlight = 0
    private var workers: [Int: Task<Void, Never>] = [:]
    private var spaceWaiters: [CheckedContinuation<Void, Never>] = []
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private var aborted = false
    static let maxRequestBytes = 4 << 20

    init(client: any BrokerClient, topic: String, partitions: Int, retry: RetryPolicy, messagesPerRequest: Int,
         maxQueuedBatches: Int, metrics: StreamerMetrics, events: EventBroadcaster?, logger: Logger) {
        self.client = client
        self.topic = topic
        self.retry = retry
        self.messagesPerRequest = max(1, messagesPerRequest)
        self.maxQueuedBatches = max(1, maxQueuedBatches)
        self.metrics = metrics
        self.events = events
        self.logger = logger
        self.queues = Array(repeating: [], count: partitions)
        self.running = Array(repeating: false, count: partitions)
    }

    /// Queues one message for a partition; waits while the queue is full.
    func enqueue(partition: Int, message: OutgoingMessage) async {
        guard message.rows > 0 else { return }
        while queued >= maxQueuedBatches && !aborted {
            await withCheckedContinuation { spaceWaiters.append($0) }
        }
        if aborted {
            metrics.didDrop(rows: message.rows)
            return
        }
        queues[partition].append(message)
        queued += 1
        if !running[partition] {
            running[partition] = true
            workers[partition] = Task { await self.work(partition) }
        }
    }

    /// Waits until every queued batch is published (or dropped).
    func waitIdle() async {
        if queued == 0 && inFlight == 0 { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    /// Stops publishing: in-flight requests are cancelled, queued rows are counted as dropped.
    func abort() {
        guard !aborted else { return }
        aborted = true
        var dropped = 0
        for p in queues.indices {
            dropped += queues[p].reduce(0) { $0 + $1.rows }
            queues[p].removeAll()
        }
        queued = 0
        if dropped > 0 {
            metrics.didDrop(rows: dropped)
            logger.warning("streamer stopping: dropped queued rows", metadata: ["rows": "\(dropped)"])
        }
        for w in workers.values { w.cancel() }
        resumeSpaceWaiters()
        checkIdle()
    }

    private func take(_ partition: Int) -> [OutgoingMessage]? {
        let q = queues[partition]
        guard !q.isEmpty, !aborted else {
            running[partition] = false
            workers[partition] = nil
            checkIdle()
            return nil
        }
        // Up to messagesPerRequest messages, and under the broker's default body limit (8 MiB).
        var n = 1
        var bytes = q[0].payload.count
        while n < min(messagesPerRequest, q.count), bytes + q[n].payload.count <= Self.maxRequestBytes {
            bytes += q[n].payload.count
            n += 1
        }
        let batch = Array(q.prefix(n))
        queues[partition].removeFirst(n)
        queued -= n
        inFlight += n
        resumeSpaceWaiters()
        return batch
    }

    private func finished(_ n: Int) {
        inFlight -= n
        checkIdle()
    }

    private func resumeSpaceWaiters() {
        let waiters = spaceWaiters
        spaceWaiters.removeAll()
        for w in waiters { w.resume() }
    }

    private func checkIdle() {
        guard queued == 0, inFlight == 0 else { return }
        let waiters = idleWaiters
        idleWaiters.removeAll()
        for w in waiters { w.resume() }
    }

    private func work(_ partition: Int) async {
        while let batch = take(partition) {
            await send(partition: partition, batch: batch)
            finished(batch.count)
        }
    }

    private nonisolated func send(partition: Int, batch: [OutgoingMessage]) async {
        let rows = batch.reduce(0) { $0 + $1.rows }
        let payloads = batch.map(\.payload)
        let start = ContinuousClock.now
        do {
            let ids = try await retry.run(onRetry: { attempt, error in
                self.metrics.didRetry()
                self.logger.info("publish failed, retrying", metadata: [
                    "partition": "\(partition)", "attempt": "\(attempt + 1)", "error": "\(error)",
                ])
            }) {
                try await client.produce(topic: topic, partition: partition, payloads: payloads)
            }
            metrics.publishDuration.record(ContinuousClock.now - start)
            metrics.didPublish(rows: rows, batches: batch.count)
            if let events, events.hasSubscribers {
                for (i, message) in batch.enumerated() {
                    // Only a live viewer pays for decoding what was sent.
                    let rowsOfMessage = (try? DCGMCSVParser.parse(message.payload).0) ?? []
                    events.publish(event: "batch", json: Self.eventJSON(partition: partition, id: i < ids.count ? ids[i] : nil, rows: rowsOfMessage))
                }
            }
        } catch {
            metrics.didDrop(rows: rows)
            logger.error("publish failed for good; rows dropped", metadata: [
                "partition": "\(partition)", "rows": "\(rows)", "messages": "\(batch.count)", "error": "\(error)",
            ])
        }
    }

    /// `{"partition":0,"id":"…","rows":[{"timestamp":…,"metric":"…","uuid":"…","hostname":"…","gpu":"…","value":…}]}`
    static func eventJSON(partition: Int, id: String?, rows: [DCGMRecord]) -> String {
        var s = "{\"partition\":\(partition),\"id\":\(id.map(JSONFormat.quoted) ?? "null"),\"count\":\(rows.count),\"rows\":["
        for (i, r) in rows.enumerated() {
            if i > 0 { s += "," }
            let value = r.value.isFinite ? "\(r.value)" : "null"
            s += "{\"timestamp\":\(r.timestamp),\"metric\":\(JSONFormat.quoted(r.metric)),\"uuid\":\(JSONFormat.quoted(r.uuid)),"
            s += "\"hostname\":\(JSONFormat.quoted(r.hostname)),\"gpu\":\(JSONFormat.quoted(r.gpuID)),\"value\":\(value)}"
        }
        return s + "]}"
    }
}
