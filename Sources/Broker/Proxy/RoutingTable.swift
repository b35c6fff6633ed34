import Synchronization

/// The assignment the proxy routes by plus each broker's health. The ring and the partition
/// counts are immutable; per-topic assignments are computed once and cached; health is a
/// small dictionary behind a mutex that is held only to read or assign it, never during I/O.
///
/// Partitions below the topic's configured count route by the balanced
/// ``PartitionAssignment``; a partition beyond it (a topic created with more partitions
/// than the proxy was told) routes by its plain ring owner, which every replica agrees on too.
package final class RoutingTable: Sendable {
    package let ring: HashRing
    package let failover: Bool
    /// Partitions of topics not in `topicPartitions` (`PARTITIONS_PER_TOPIC`).
    package let partitionsPerTopic: Int
    package let topicPartitions: [String: Int]
    private let up: Mutex<[String: Bool]>
    private let assignments = Mutex<[String: PartitionAssignment]>([:])

    package init(ring: HashRing, failover: Bool, partitionsPerTopic: Int = 4, topicPartitions: [String: Int] = [:]) {
        self.ring = ring
        self.failover = failover
        self.partitionsPerTopic = max(1, partitionsPerTopic)
        self.topicPartitions = topicPartitions
        self.up = Mutex(Dictionary(uniqueKeysWithValues: ring.nodes.map { ($0, true) }))
    }

    package func isUp(_ broker: String) -> Bool { up.withLock { $0[broker] ?? false } }

    package func health() -> [String: Bool] { up.withLock { $0 } }

    /// Records health results; returns the brokers whose state changed.
    @discardableResult
    package func update(_ results: [String: Bool]) -> [String] {
        up.withLock { state in
            var changed: [String] = []
            for (b, ok) in results where state[b] != nil && state[b] != ok {
                state[b] = ok
                changed.append(b)
            }
            return changed
        }
    }

    package func markDown(_ broker: String) { update([broker: false]) }

    /// The configured partition count of `topic` (dead-letter topics follow their base topic).
    package func partitionCount(topic: String) -> Int {
        if let n = topicPartitions[topic] { return max(1, n) }
        if topic.hasSuffix(".dlq"), let n = topicPartitions[String(topic.dropLast(4))] { return max(1, n) }
        return partitionsPerTopic
    }

    /// The balanced assignment of `topic` (computed on first use; the cache is bounded).
    package func assignment(topic: String) -> PartitionAssignment {
        if let a = assignments.withLock({ $0[topic] }) { return a }
        let a = PartitionAssignment(ring: ring, topic: topic, partitions: partitionCount(topic: topic))
        assignments.withLock { cache in
            if cache.count >= 4096 { cache.removeAll() }
            cache[topic] = a
        }
        return a
    }

    /// The broker that owns the partition when every broker is up.
    package func owner(topic: String, partition: Int) -> String? {
        let a = assignment(topic: topic)
        if partition < a.partitionCount { return a.owner(of: partition) }
        return ring.owner(topic: topic, partition: partition)
    }

    /// The owner first, then every other broker in the order failover considers them.
    package func preference(topic: String, partition: Int) -> [String] {
        let a = assignment(topic: topic)
        if partition < a.partitionCount { return a.preference(of: partition) }
        return ring.preference(for: HashRing.key(topic: topic, partition: partition))
    }

    package enum Route: Equatable, Sendable {
        /// The owner, or (failover) the broker with room that stands in for it; `failedOver` says which.
        case broker(String, failedOver: Bool)
        /// The owner is down and failover is off (or nobody is up).
        case unavailable(owner: String?)
    }

    package func route(topic: String, partition: Int) -> Route {
        guard let owner = owner(topic: topic, partition: partition) else { return .unavailable(owner: nil) }
        let health = self.health()
        if health[owner] == true { return .broker(owner, failedOver: false) }
        guard failover else { return .unavailable(owner: owner) }
        let upSet = Set(health.filter(\.value).keys)
        let a = assignment(topic: topic)
        if partition < a.partitionCount {
            if let b = a.failover(up: upSet)[partition] { return .broker(b, failedOver: true) }
            return .unavailable(owner: owner)
        }
        for b in preference(topic: topic, partition: partition).dropFirst() where health[b] == true { return .broker(b, failedOver: true) }
        return .unavailable(owner: owner)
    }
}
