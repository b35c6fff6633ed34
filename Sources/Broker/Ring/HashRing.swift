import Primitives

/// A consistent-hash ring: each node owns `virtualNodes` points at xxHash64("<node>#<i>"),
/// and a key (`"<topic>:<partition>"`) belongs to the first point at or after
/// xxHash64(key), wrapping around. Pure and deterministic, so every proxy replica (and every
/// restart) routes the same key to the same node.
///
/// ```swift
/// let ring = HashRing(nodes: ["http://broker-0:9092", "http://broker-1:9092"])
/// let owner = ring.owner(topic: "dcgm", partition: 3)
/// ```
package struct HashRing: Sendable, Equatable {
    package struct Point: Sendable, Equatable {
        package let hash: UInt64
        package let node: Int
    }

    package let nodes: [String]
    package let virtualNodes: Int
    /// Sorted by hash (ties broken by node index, so the order is total).
    package let points: [Point]

    package init(nodes: [String], virtualNodes: Int = 150) {
        self.nodes = nodes
        self.virtualNodes = max(1, virtualNodes)
        var points: [Point] = []
        points.reserveCapacity(nodes.count * self.virtualNodes)
        for (n, node) in nodes.enumerated() {
            for i in 0..<self.virtualNodes {
                points.append(Point(hash: XXHash64.hash("\(node)#\(i)"), node: n))
            }
        }
        points.sort { $0.hash != $1.hash ? $0.hash < $1.hash : $0.node < $1.node }
        self.points = points
    }

    package static func key(topic: String, partition: Int) -> String { "\(topic):\(partition)" }

    /// Index of the first point at or after `hash` (wrapping).
    func pointIndex(for hash: UInt64) -> Int {
        var lo = 0, hi = points.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if points[mid].hash < hash { lo = mid + 1 } else { hi = mid }
        }
        return lo == points.count ? 0 : lo
    }

    /// The node owning `key`, or nil for an empty ring.
    package func owner(of key: String) -> String? {
        guard !points.isEmpty else { return nil }
        return nodes[points[pointIndex(for: XXHash64.hash(key))].node]
    }

    package func owner(topic: String, partition: Int) -> String? { owner(of: Self.key(topic: topic, partition: partition)) }

    /// Every node in ring order starting at `key`'s owner: the owner, then the deterministic
    /// failover candidates.
    package func preference(for key: String) -> [String] {
        guard !points.isEmpty else { return [] }
        var seen = Set<Int>()
        var out: [String] = []
        var i = pointIndex(for: XXHash64.hash(key))
        for _ in 0..<points.count {
            let n = points[i].node
            if seen.insert(n).inserted {
                out.append(nodes[n])
                if out.count == nodes.count { break }
            }
            i = (i + 1) % points.count
        }
        return out
    }

    /// Fraction of the 64-bit hash space each node owns (sums to 1).
    package func shares() -> [String: Double] {
        guard !points.isEmpty else { return [:] }
        var owned = [Double](repeating: 0, count: nodes.count)
        for (i, p) in points.enumerated() {
            // Point i owns the arc (previous point, this point].
            let prev = i == 0 ? points[points.count - 1].hash : points[i - 1].hash
            let arc = p.hash &- prev  // wraps correctly for i == 0
            owned[p.node] += Double(arc)
        }
        if points.count == 1 || Set(points.map(\.node)).count == 1 { return [nodes[points[0].node]: 1] }
        let total = owned.reduce(0, +)
        var out: [String: Double] = [:]
        for (n, node) in nodes.enumerated() { out[node] = owned[n] / total }
        return out
    }
}
