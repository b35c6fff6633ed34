/// Which broker owns each partition of one topic: consistent hashing with bounded loads.
///
/// Partitions are placed in index order; each walks the ring from its key
/// (`"<topic>:<partition>"`) and takes the first broker with room. With P partitions over
/// B brokers every broker ends with ⌊P/B⌋ or ⌈P/B⌉ partitions (at most P mod B of them at
/// the ceiling), so loads differ by at most one, while the ring keeps movement close to the
/// minimum when a broker joins or leaves. The result depends only on the set of broker URLs
/// (the ring hashes them; their order is irrelevant), the topic and P, so every proxy
/// replica, and every restart, computes the same assignment.
///
/// ```swift
/// let ring = HashRing(nodes: ["http://b0:9092", "http://b1:9092"])
/// let a = PartitionAssignment(ring: ring, topic: "telemetry", partitions: 4)
/// a.owner(of: 3)          // "http://b1:9092"
/// a.loads                 // [2, 2]
/// ```
package struct PartitionAssignment: Sendable, Equatable {
    package let topic: String
    /// Broker URLs, as in the ring (`owners` indexes into it).
    package let nodes: [String]
    /// Index into `nodes` of each partition's owner.
    package let owners: [Int]
    /// Per partition, every node index in ring order from the partition's key: the walk that
    /// placement and failover follow.
    let walks: [[Int]]

    package init(ring: HashRing, topic: String, partitions: Int) {
        self.topic = topic
        self.nodes = ring.nodes
        let index = Dictionary(ring.nodes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let walks = (0..<max(0, partitions)).map { p in
            ring.preference(for: HashRing.key(topic: topic, partition: p)).compactMap { index[$0] }
        }
        self.walks = walks
        self.owners = Self.place(walks: walks, nodeCount: ring.nodes.count, eligible: Array(0..<ring.nodes.count))
    }

    package var partitionCount: Int { owners.count }

    package func owner(of partition: Int) -> String? {
        guard partition >= 0, partition < owners.count, owners[partition] >= 0 else { return nil }
        return nodes[owners[partition]]
    }

    /// Partitions per node, in `nodes` order.
    package var loads: [Int] {
        var out = [Int](repeating: 0, count: nodes.count)
        for o in owners where o >= 0 { out[o] += 1 }
        return out
    }

    /// The owner of `partition` first, then every other node in ring order: where records
    /// of this partition may live after failovers.
    package func preference(of partition: Int) -> [String] {
        guard partition >= 0, partition < walks.count else { return [] }
        let owner = owners[partition]
        return (owner >= 0 ? [nodes[owner]] : []) + walks[partition].filter { $0 != owner }.map { nodes[$0] }
    }

    /// Where each partition goes while only the nodes in `up` answer: partitions of a node
    /// that is up stay; each partition of a node that is down walks the ring from its key to
    /// the first node that is up and has room (at most ⌈P/|up|⌉ partitions). When the owner
    /// comes back this returns to `owners`, so partitions move home. nil where nobody is up.
    package func failover(up: Set<String>) -> [String?] {
        let upIndices = Set(nodes.indices.filter { up.contains(nodes[$0]) })
        guard !upIndices.isEmpty else { return owners.map { _ in nil } }
        let cap = (owners.count + upIndices.count - 1) / upIndices.count
        var load = [Int](repeating: 0, count: nodes.count)
        for o in owners where o >= 0 && upIndices.contains(o) { load[o] += 1 }
        var out: [String?] = owners.map { $0 >= 0 && upIndices.contains($0) ? nodes[$0] : nil }
        for p in owners.indices where out[p] == nil {
            let pick = walks[p].first { upIndices.contains($0) && load[$0] < cap } ?? walks[p].first { upIndices.contains($0) }
            if let pick {
                load[pick] += 1
                out[p] = nodes[pick]
            }
        }
        return out
    }

    /// Bounded-load placement: node n may take a partition while it holds fewer than ⌊P/B⌋,
    /// or exactly ⌊P/B⌋ while fewer than P mod B nodes have reached ⌈P/B⌉. Room always
    /// exists while partitions are left, and every node ends at ⌊P/B⌋ or ⌈P/B⌉.
    static func place(walks: [[Int]], nodeCount: Int, eligible: [Int]) -> [Int] {
        guard !eligible.isEmpty else { return walks.map { _ in -1 } }
        let allowed = Set(eligible)
        let floor = walks.count / eligible.count
        let extra = walks.count % eligible.count
        var load = [Int](repeating: 0, count: nodeCount)
        var atCeiling = 0
        var owners: [Int] = []
        owners.reserveCapacity(walks.count)
        for walk in walks {
            var chosen = -1
            for n in walk where allowed.contains(n) {
                if load[n] < floor || (load[n] == floor && atCeiling < extra) {
                    if load[n] == floor { atCeiling += 1 }
                    chosen = n
                    break
                }
            }
            if chosen >= 0 { load[chosen] += 1 }
            owners.append(chosen)
        }
        return owners
    }
}
