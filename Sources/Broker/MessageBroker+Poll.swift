import Logging

extension MessageBroker {
    /// Waits up to `wait` for records of `group` on one partition and returns at most
    /// `maxRecords` of them, marked in flight: records whose visibility timeout expired first,
    /// then records never delivered to this group. Unacked records come back after the
    /// visibility timeout; after `maxDeliveries` they move to the dead-letter topic instead.
    package func poll(topic: String, partition: Int, group: String, maxRecords: Int, wait: Duration) async throws -> [BrokerRecord] {
        try validateName(group, kind: "group")
        let p = try partitionState(topic, partition)
        let g = try groupState(p, group)
        let deadline = ContinuousClock.now + wait
        while true {
            if closed { throw BrokerError.shutDown }
            try Task.checkCancellation()
            let now = ContinuousClock.now
            let expired = g.takeExpired(now: now, max: max(1, maxRecords))
            var redeliver: [UInt64] = []
            var deadLetters: [UInt64] = []
            for e in expired {
                if e.deliveries >= config.maxDeliveries { deadLetters.append(e.offset) } else { redeliver.append(e.offset) }
            }
            if !deadLetters.isEmpty { try await moveToDeadLetter(p, g, offsets: deadLetters) }
            let records = try await collect(p, g, redeliver: redeliver, max: max(1, maxRecords), now: ContinuousClock.now)
            if !records.isEmpty {
                metrics.delivered(topic, records.count)
                let again = records.reduce(0) { $0 + ($1.deliveryCount > 1 ? 1 : 0) }
                if again > 0 { metrics.redelivered(topic, again) }
                metrics.groupState(topic: topic, partition: partition, group: group, pending: g.pendingCount, lag: g.lag(end: p.log.durableOffset))
                return records
            }
            let current = ContinuousClock.now
            if current >= deadline { return [] }
            var wake = deadline
            if let next = g.nextDeadline(), next < wake { wake = next }
            await waitForChange(p, until: wake)
        }
    }

    func groupState(_ p: PartitionState, _ group: String) throws -> ConsumerGroup {
        if let g = p.groups[group] { return g }
        let (file, committed, acked) = try GroupStateFile.open(directory: p.log.directory, group: group, durable: config.fsync != .none, logger: logger)
        let g = ConsumerGroup(name: group, state: file, committed: committed, acked: acked)
        g.skip(below: p.log.startOffset)
        p.groups[group] = g
        return g
    }

    private func collect(_ p: PartitionState, _ g: ConsumerGroup, redeliver: [UInt64], max: Int, now: ContinuousClock.Instant) async throws -> [BrokerRecord] {
        var out: [BrokerRecord] = []
        let prefix = "\(p.index)-"
        g.skip(below: p.log.startOffset)
        for offset in redeliver {
            guard let r = try await readRecord(p, at: offset) else {
                _ = g.settle(offset)  // deleted by retention: nothing left to deliver
                continue
            }
            let n = g.deliver(offset, now: now, timeout: config.visibilityTimeout)
            out.append(BrokerRecord(id: prefix + String(offset), offset: offset, timestamp: r.timestamp, payload: r.payload, deliveryCount: n))
        }
        while out.count < max, g.cursor < p.log.durableOffset {
            let from = g.cursor
            // A cold read suspends on the partition's I/O lane; meanwhile another poll may
            // move the cursor (or a release lower it): only an unmoved cursor is advanced,
            // and records delivered meanwhile are skipped as in flight.
            let batch = try await readLog(p, from: from, maxCount: max - out.count)
            guard let last = batch.last else {
                if g.cursor == from { g.cursor = p.log.durableOffset }  // a gap left by corruption: nothing to read
                break
            }
            for r in batch where !g.isSettled(r.offset) && !g.isInFlight(r.offset) {
                let n = g.deliver(r.offset, now: now, timeout: config.visibilityTimeout)
                out.append(BrokerRecord(id: prefix + String(r.offset), offset: r.offset, timestamp: r.timestamp, payload: r.payload, deliveryCount: n))
            }
            if g.cursor == from { g.cursor = last.offset + 1 } else { break }
        }
        return out
    }

    /// Appends the records to the dead-letter topic (same partition index, modulo its count),
    /// then settles them for this group; both are durable before the poll goes on.
    private func moveToDeadLetter(_ p: PartitionState, _ g: ConsumerGroup, offsets: [UInt64]) async throws {
        var payloads: [[UInt8]] = []
        var moved: [UInt64] = []
        for offset in offsets {
            if let r = try await readRecord(p, at: offset) {
                payloads.append(r.payload)
                moved.append(offset)
            } else {
                _ = g.settle(offset)
            }
        }
        guard !moved.isEmpty else { return }
        let dlqTopic = deadLetterTopic(for: p.topic)
        try createTopic(dlqTopic)
        guard let dlqParts = topics[dlqTopic] else { return }
        let dlq = dlqParts[p.index % dlqParts.count]
        // The copy must be durable before the settle is: a crash in between then leaves a
        // duplicate in the dead-letter topic, never a lost record. Meanwhile the records stay
        // in flight (out of the expiry queue), so no poll hands them out again.
        let (first, touched) = try await appendRecords(dlq, payloads)
        do {
            try await flusher.sync(touched)
        } catch {
            dlq.log.markDurable(from: first, upTo: first + UInt64(payloads.count))
            throw error
        }
        dlq.log.markDurable(from: first, upTo: first + UInt64(payloads.count))
        dlq.wakeAll()
        await lockWrites(p)
        do {
            try await appendGroupState(g, p, kind: .deadLetter, offsets: moved)
        } catch {
            unlockWrites(p)
            throw error
        }
        for o in moved { _ = g.settle(o) }
        unlockWrites(p)
        try await flusher.sync([g.state.file])
        metrics.deadLettered(p.topic, moved.count)
        metrics.produced(dlqTopic, moved.count)
        logger.warning("records dead-lettered", metadata: [
            "topic": "\(p.topic)", "partition": "\(p.index)", "group": "\(g.name)", "count": "\(moved.count)",
            "dead_letter_topic": "\(dlqTopic)",
        ])
        await afterAck(p, g)
    }

    // MARK: Introspection

    /// Topics with their partitions' offsets and groups (for GET /topics).
    package func topicsInfo() -> [TopicInfo] {
        topics.keys.sorted().map { name in
            TopicInfo(name: name, partitions: topics[name]!.map { p in
                PartitionInfo(
                    partition: p.index, startOffset: p.log.startOffset, endOffset: p.log.durableOffset,
                    segments: p.log.segments.count, bytes: p.log.byteSize,
                    groups: p.groups.keys.sorted().map { gname in
                        let g = p.groups[gname]!
                        return GroupInfo(name: gname, committed: g.committed, pending: g.pendingCount, lag: g.lag(end: p.log.durableOffset))
                    })
            })
        }
    }
}

/// A topic as listed by GET /topics.
package struct TopicInfo: Sendable, Codable, Equatable {
    package let name: String
    package let partitions: [PartitionInfo]
}

package struct PartitionInfo: Sendable, Codable, Equatable {
    package let partition: Int
    package let startOffset: UInt64
    package let endOffset: UInt64
    package let segments: Int
    package let bytes: Int
    package let groups: [GroupInfo]
}

package struct GroupInfo: Sendable, Codable, Equatable {
    package let name: String
    /// Every offset below this is acked.
    package let committed: UInt64
    /// Delivered, not yet acked.
    package let pending: Int
    /// Not yet acked.
    package let lag: Int
}
