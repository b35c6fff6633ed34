import Foundation
import Logging
import Prometheus
import Primitives

/// A record handed to a consumer: `id` is what the consumer acks (opaque to clients).
package struct BrokerRecord: Sendable, Equatable {
    package let id: String
    package let offset: UInt64
    /// Produce time, ns since the epoch.
    package let timestamp: Int64
    package let payload: [UInt8]
    /// 1 on the first delivery to this group since the broker started.
    package let deliveryCount: Int
}

/// State of one partition: its log, its consumer groups, and the pollers waiting for records.
final class PartitionState {
    let topic: String
    let index: Int
    let log: PartitionLog
    var groups: [String: ConsumerGroup] = [:]
    var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    /// This partition's blocking file I/O runs here, never on the broker's actor.
    let io: IOLane
    /// A write (log append, group-state append or snapshot) is between its prepare and commit.
    var writing = false
    var writeWaiters: [CheckedContinuation<Void, Never>] = []

    init(topic: String, index: Int, log: PartitionLog) {
        self.topic = topic
        self.index = index
        self.log = log
        self.io = IOLane(label: "broker-io-\(topic)-\(index)")
    }

    func wakeAll() {
        let w = waiters
        waiters.removeAll()
        for (_, c) in w { c.resume() }
    }
}

/// The broker: topics of partitioned, durable logs with real consumer groups.
///
/// A produce returns once its records are durable under the fsync policy; a poll hands out
/// records in flight for one group (visible again after the visibility timeout, dead-lettered
/// after `maxDeliveries`); an ack returns once it is durable, so after any restart exactly
/// the unacked records are delivered again.
///
/// ```swift
/// let broker = try await MessageBroker(config: BrokerConfig(dataDirectory: dir), logger: logger)
/// let ids = try await broker.produce(topic: "dcgm", partition: 0, payloads: [Array("hi".utf8)])
/// let records = try await broker.poll(topic: "dcgm", partition: 0, group: "collector", maxRecords: 100, wait: .seconds(1))
/// _ = try await broker.ack(topic: "dcgm", partition: 0, group: "collector", ids: records.map(\.id))
/// ```
package actor MessageBroker {
    package nonisolated let config: BrokerConfig
    let logger: Logger
    let flusher: Flusher
    let metrics: BrokerMetrics
    var topics: [String: [PartitionState]] = [:]
    var closed = false
    private var nextWaiter: UInt64 = 0

    var topicsDirectory: String { config.dataDirectory + "/topics" }

    /// Opens (recovering) or creates the broker's data directory. `registry` receives the
    /// broker metrics; pass the server's registry so /metrics shows them.
    package init(config: BrokerConfig, logger: Logger, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) async throws {
        self.config = config
        self.logger = logger
        let metrics = BrokerMetrics(registry: registry)
        self.metrics = metrics
        self.flusher = Flusher(policy: config.fsync) { seconds in
            metrics.fsyncDuration.record(Duration.nanoseconds(Int64(seconds * 1e9)))
        }
        let dir = config.dataDirectory + "/topics"
        try FileIO.makeDirectory(dir)
        var loaded: [String: [PartitionState]] = [:]
        for name in FileIO.list(dir) {
            guard (try? validateName(name, kind: "topic")) != nil else { continue }
            let partitionNames = FileIO.list(dir + "/" + name).compactMap(Int.init).sorted()
            guard !partitionNames.isEmpty, partitionNames == Array(0..<partitionNames.count) else {
                logger.error("topic directory has missing partitions; skipped", metadata: ["topic": "\(name)"])
                continue
            }
            loaded[name] = try partitionNames.map { try Self.openPartition(config: config, topic: name, index: $0, logger: logger) }
        }
        self.topics = loaded
        logger.info("broker opened", metadata: ["topics": "\(loaded.count)", "dir": "\(config.dataDirectory)", "fsync": "\(config.fsync)"])
    }

    private static func openPartition(config: BrokerConfig, topic: String, index: Int, logger: Logger) throws -> PartitionState {
        let dir = config.dataDirectory + "/topics/\(topic)/\(index)"
        let log = try PartitionLog(directory: dir, partition: index, queueSize: config.queueSize, queueBytes: config.queueBytes,
                                   segmentBytes: config.segmentBytes, durable: config.fsync != .none, logger: logger)
        let state = PartitionState(topic: topic, index: index, log: log)
        for file in FileIO.list(dir) {
            guard let group = GroupStateFile.groupName(fileName: file) else { continue }
            let (stateFile, replayedCommitted, replayedAcked) = try GroupStateFile.open(directory: dir, group: group, durable: config.fsync != .none, logger: logger)
            var committed = replayedCommitted, acked = replayedAcked
            if committed > log.nextOffset || acked.contains(where: { $0 >= log.nextOffset }) {
                // Acks of records that do not exist would silently settle records produced
                // later. Which acks are real is unknowable, so redeliver what is retained
                // (at-least-once; storage is idempotent) and rewrite the file without them.
                logger.error("group state is ahead of the log (corrupt): redelivering the retained records", metadata: [
                    "partition_dir": "\(dir)", "group": "\(group)", "committed": "\(committed)", "log_end": "\(log.nextOffset)",
                ])
                if committed > log.nextOffset { committed = log.startOffset }
                acked = acked.filter { $0 >= committed && $0 < log.nextOffset }
                try stateFile.snapshot(committed: committed, acked: acked)
            }
            let g = ConsumerGroup(name: group, state: stateFile, committed: committed, acked: acked)
            g.skip(below: log.startOffset)
            state.groups[group] = g
        }
        return state
    }

    /// Partitions of `topic`: its real count when it exists, else what it will be created with.
    package func partitionCount(topic: String) -> Int {
        topics[topic]?.count ?? config.partitions(for: topic)
    }

    /// Creates `topic` (all partitions) if it does not exist yet.
    package func createTopic(_ topic: String, partitions: Int? = nil) throws {
        try validateName(topic, kind: "topic")
        guard topics[topic] == nil else { return }
        let count = max(1, partitions ?? config.partitions(for: topic))
        topics[topic] = try (0..<count).map { try Self.openPartition(config: config, topic: topic, index: $0, logger: logger) }
        if config.fsync != .none {
            try? DurableFile.syncDirectory(topicsDirectory + "/" + topic)
            try? DurableFile.syncDirectory(topicsDirectory)
        }
        logger.info("topic created", metadata: ["topic": "\(topic)", "partitions": "\(count)"])
    }

    func partitionState(_ topic: String, _ partition: Int) throws -> PartitionState {
        if closed { throw BrokerError.shutDown }
        try createTopic(topic)
        guard let parts = topics[topic] else { throw BrokerError.io("topic \(topic) vanished") }
        guard partition >= 0, partition < parts.count else {
            throw BrokerError.invalidPartition(topic: topic, partition: partition, count: parts.count)
        }
        return parts[partition]
    }

    // MARK: Produce

    /// Appends `payloads` to one partition; returns their record ids once they are durable.
    /// Throws `.unavailable` (retryable, nothing stored) when the disk or the backlog is full.
    package func produce(topic: String, partition: Int, payloads: [[UInt8]]) async throws -> [String] {
        let p = try partitionState(topic, partition)
        guard !payloads.isEmpty else { return [] }
        var bytes = 0
        let limit = min(config.maxRecordBytes, RecordFrame.maxPayloadBytes)
        for payload in payloads {
            guard payload.count <= limit else {
                throw BrokerError.recordTooLarge(size: payload.count, limit: limit)
            }
            bytes += payload.count + RecordFrame.headerSize
        }
        if config.minFreeBytes > 0, let free = FileIO.freeBytes(p.log.directory), free < config.minFreeBytes + Int64(bytes) {
            metrics.rejected("disk_full")
            throw BrokerError.unavailable(reason: "disk nearly full (\(free) bytes free, MIN_FREE_BYTES=\(config.minFreeBytes))", retryAfter: config.retryAfter)
        }
        if config.maxUnackedRecords > 0 {
            let lag = p.groups.values.map { $0.lag(end: p.log.nextOffset) }.max() ?? 0
            if lag + payloads.count > config.maxUnackedRecords {
                metrics.rejected("backlog_full")
                throw BrokerError.unavailable(reason: "\(lag) records are not acked yet (MAX_UNACKED=\(config.maxUnackedRecords))", retryAfter: config.retryAfter)
            }
        }
        let (first, touched): (UInt64, [Segment])
        do {
            (first, touched) = try await appendRecords(p, payloads)
        } catch let error as BrokerError {
            if case .unavailable = error { metrics.rejected("disk_full") }
            throw error
        }
        let end = first + UInt64(payloads.count)
        do {
            try await flusher.sync(touched)
        } catch {
            // Not acknowledged; written, so it must not hold back the records after it.
            p.log.markDurable(from: first, upTo: end)
            throw error
        }
        p.log.markDurable(from: first, upTo: end)
        p.wakeAll()
        metrics.produced(topic, payloads.count)
        return (0..<payloads.count).map { RecordID.format(partition: partition, offset: first + UInt64($0)) }
    }

    static func nowNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    // MARK: Ack

    /// Settles delivered records for `group`; idempotent. Ids never delivered to this group
    /// (unknown, or another group's) come back in `unknown`. Returns once the acks are durable.
    package func ack(topic: String, partition: Int, group: String, ids: [String]) async throws -> (acked: Int, unknown: [String]) {
        try validateName(group, kind: "group")
        try validateName(topic, kind: "topic")
        // Malformed ids are a 400 before anything else is looked at or settled.
        var parsed: [(partition: Int, offset: UInt64)] = []
        parsed.reserveCapacity(ids.count)
        for id in ids { parsed.append(try RecordID.parse(id).get()) }
        if closed { throw BrokerError.shutDown }
        guard let parts = topics[topic] else { return (0, ids) }
        guard partition >= 0, partition < parts.count else {
            throw BrokerError.invalidPartition(topic: topic, partition: partition, count: parts.count)
        }
        let p = parts[partition]
        guard let g = p.groups[group] else { return (0, ids) }
        // Classify and record under the partition's write lock: the state file's append runs
        // on the I/O lane, and no other ack, dead-letter move or snapshot interleaves.
        await lockWrites(p)
        var fresh: [UInt64] = []
        var known = 0
        var unknown: [String] = []
        var seen = Set<UInt64>()
        for (id, r) in zip(ids, parsed) {
            guard r.partition == partition, r.offset < p.log.nextOffset else {
                unknown.append(id)
                continue
            }
            let offset = r.offset
            if g.isSettled(offset) || seen.contains(offset) {
                known += 1
            } else if g.isInFlight(offset) {
                fresh.append(offset)
                seen.insert(offset)
                known += 1
            } else {
                unknown.append(id)
            }
        }
        if !fresh.isEmpty {
            g.acking.formUnion(fresh)
            defer { g.acking.subtract(fresh) }
            do {
                try await appendGroupState(g, p, kind: .ack, offsets: fresh)  // throws before anything changes
            } catch {
                unlockWrites(p)
                throw error
            }
            for o in fresh { _ = g.settle(o) }
        }
        unlockWrites(p)
        if known > 0 {
            try await flusher.sync([g.state.file])
        }
        if !fresh.isEmpty { await afterAck(p, g) }
        return (known, unknown)
    }

    /// The offset of record id `id` when it names `partition`; nil for another partition or
    /// a malformed id.
    package static func parseID(_ id: String, partition: Int) -> UInt64? {
        guard case .success(let r) = RecordID.parse(id), r.partition == partition else { return nil }
        return r.offset
    }

    func afterAck(_ p: PartitionState, _ g: ConsumerGroup) async {
        metrics.groupState(topic: p.topic, partition: p.index, group: g.name, pending: g.pendingCount, lag: g.lag(end: p.log.durableOffset))
        if g.state.entriesSinceSnapshot > 8192 + 2 * g.acked.count {
            await snapshotGroupState(p, g)
        }
        if p.log.segments.count > 1, let minCommitted = p.groups.values.map(\.committed).min(),
           minCommitted >= p.log.segments[0].endOffset
        {
            let cutoff = Self.nowNanos() - Int64(config.retention.components.seconds) * 1_000_000_000
            p.log.deleteSegments(below: minCommitted, newestBefore: cutoff, maxBytes: config.retentionBytes)
        }
    }

    // MARK: Waiting

    /// Suspends until the partition gets new records or `deadline` passes (or the task is cancelled).
    func waitForChange(_ p: PartitionState, until deadline: ContinuousClock.Instant) async {
        let id = nextWaiter
        nextWaiter += 1
        let topic = p.topic, index = p.index
        let timer = Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            await self?.fire(topic: topic, partition: index, id: id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                if Task.isCancelled || closed { c.resume() } else { p.waiters[id] = c }
            }
        } onCancel: {
            Task { await self.fire(topic: topic, partition: index, id: id) }
        }
        timer.cancel()
    }

    private func fire(topic: String, partition: Int, id: UInt64) {
        topics[topic]?[partition].waiters.removeValue(forKey: id)?.resume()
    }

    // MARK: Shutdown

    /// Stops accepting calls, wakes pollers, and waits for queued fsyncs.
    package func shutdown() async throws {
        guard !closed else { return }
        closed = true
        for parts in topics.values { for p in parts { p.wakeAll() } }
        await flusher.stop()
        logger.info("broker closed")
    }
}
