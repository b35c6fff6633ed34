import Foundation
import Testing

@testable import Broker

/// Broker URLs of a StatefulSet, as the chart names them.
func chartBrokers(_ count: Int) -> [String] {
    statefulSetBrokerURLs(service: "rel-telemetry-stack-broker", count: count, namespace: "gpu-telemetry", port: 9092)
}

/// How many partitions change owner between two assignments of the same topic.
func moved(_ a: PartitionAssignment, _ b: PartitionAssignment) -> Int {
    (0..<a.partitionCount).filter { a.owner(of: $0) != b.owner(of: $0) }.count
}

/// The README's movement table: for B brokers and P partitions, partitions that change owner
/// when broker B-1 joins B-1 brokers (the same count when it leaves again) and when broker 0
/// leaves B brokers, against the minimum (the partitions the joining or leaving broker owns).
func movementTable(topic: String = "telemetry") -> String {
    let columns = [2, 4, 8, 16, 32, 64]
    var out = "| B | " + columns.map { "P=\($0)" }.joined(separator: " | ") + " | all P 2…64: moved / minimum |\n"
    out += "|---|" + columns.map { _ in "---|" }.joined() + "---|\n"
    for b in 2...8 {
        var cells: [String] = []
        var total = (join: 0, joinMin: 0, leave: 0, leaveMin: 0)
        for p in 2...64 {
            let before = PartitionAssignment(ring: HashRing(nodes: chartBrokers(b - 1)), topic: topic, partitions: p)
            let after = PartitionAssignment(ring: HashRing(nodes: chartBrokers(b)), topic: topic, partitions: p)
            let joinMin = after.loads[after.nodes.firstIndex(of: chartBrokers(b)[b - 1])!]
            let joined = moved(before, after)
            let without0 = PartitionAssignment(ring: HashRing(nodes: Array(chartBrokers(b).dropFirst())), topic: topic, partitions: p)
            let leaveMin = after.loads[after.nodes.firstIndex(of: chartBrokers(b)[0])!]
            let left = moved(after, without0)
            total.join += joined; total.joinMin += joinMin; total.leave += left; total.leaveMin += leaveMin
            if columns.contains(p) { cells.append("+\(joined)/\(joinMin) −\(left)/\(leaveMin)") }
        }
        out += "| \(b) | " + cells.joined(separator: " | ")
            + " | join \(total.join)/\(total.joinMin), leave \(total.leave)/\(total.leaveMin) |\n"
    }
    return out
}

@Suite("Balanced partition assignment (bounded-load consistent hashing)")
struct PartitionAssignmentTests {
    @Test("every (B ≤ 8, P ≤ 64): each partition has an owner and loads differ by at most one")
    func evenForEveryShape() {
        for b in 1...8 {
            for urls in [chartBrokers(b), (0..<b).map { "http://127.0.0.1:\(40_000 + $0 * 7)" }] {
                let ring = HashRing(nodes: urls)
                for p in 1...64 {
                    let a = PartitionAssignment(ring: ring, topic: "telemetry", partitions: p)
                    #expect(a.owners.allSatisfy { $0 >= 0 }, "B=\(b) P=\(p): unassigned partition")
                    let loads = a.loads
                    #expect(loads.max()! - loads.min()! <= 1, "B=\(b) P=\(p): loads \(loads)")
                    #expect(loads.reduce(0, +) == p)
                }
            }
        }
    }

    @Test("the issue's case: 2 brokers, 4 partitions → 2 and 2; 2 partitions → 1 and 1")
    func issueCase() {
        let ring = HashRing(nodes: chartBrokers(2))
        #expect(PartitionAssignment(ring: ring, topic: "telemetry", partitions: 4).loads == [2, 2])
        #expect(PartitionAssignment(ring: ring, topic: "telemetry", partitions: 2).loads == [1, 1])
    }

    @Test("deterministic from the broker set alone: any listing order, any rebuild, the same owners")
    func orderIndependent() {
        var rng = SystemRandomNumberGenerator()
        for b in 2...8 {
            let urls = chartBrokers(b)
            let reference = PartitionAssignment(ring: HashRing(nodes: urls), topic: "telemetry", partitions: 24)
            let owners = (0..<24).map { reference.owner(of: $0)! }
            for _ in 0..<5 {
                let shuffled = urls.shuffled(using: &rng)
                let again = PartitionAssignment(ring: HashRing(nodes: shuffled), topic: "telemetry", partitions: 24)
                #expect((0..<24).map { again.owner(of: $0)! } == owners, "order \(shuffled)")
            }
            // Two routing tables (two proxy replicas, or one restarted) agree partition by partition.
            let t1 = RoutingTable(ring: HashRing(nodes: urls), failover: true, partitionsPerTopic: 24)
            let t2 = RoutingTable(ring: HashRing(nodes: urls.reversed()), failover: true, partitionsPerTopic: 24)
            #expect((0..<24).map { t1.owner(topic: "telemetry", partition: $0) } == (0..<24).map { t2.owner(topic: "telemetry", partition: $0) })
        }
    }

    @Test("failover: only a down broker's partitions move, each to a broker with room; all return when it is back")
    func failoverWithRoom() {
        for b in 2...8 {
            for p in [2, 4, 7, 16, 31, 64] {
                let urls = chartBrokers(b)
                let a = PartitionAssignment(ring: HashRing(nodes: urls), topic: "telemetry", partitions: p)
                for down in urls {
                    let up = Set(urls).subtracting([down])
                    let routes = a.failover(up: up)
                    let cap = (p + up.count - 1) / up.count
                    var load: [String: Int] = [:]
                    for q in 0..<p {
                        let r = routes[q]
                        #expect(r != nil && r != down)
                        if a.owner(of: q) != down { #expect(r == a.owner(of: q), "B=\(b) P=\(p): partition \(q) of a healthy owner moved") }
                        load[r ?? "", default: 0] += 1
                    }
                    #expect(load.values.allSatisfy { $0 <= cap }, "B=\(b) P=\(p) down=\(down): loads \(load) over cap \(cap)")
                }
                #expect(a.failover(up: Set(urls)) == (0..<p).map { a.owner(of: $0) }, "all up: back to the owners")
            }
        }
    }

    @Test("movement when a broker joins or leaves stays close to the minimum; README holds the table")
    func movementNearMinimum() throws {
        for b in 2...8 {
            for p in 2...64 {
                let before = PartitionAssignment(ring: HashRing(nodes: chartBrokers(b - 1)), topic: "telemetry", partitions: p)
                let after = PartitionAssignment(ring: HashRing(nodes: chartBrokers(b)), topic: "telemetry", partitions: p)
                let minimum = after.loads[after.nodes.firstIndex(of: chartBrokers(b)[b - 1])!]
                let m = moved(before, after)
                #expect(m >= minimum)
                // Bounded loads cascade a little; never anything like a reshuffle.
                #expect(m <= 2 * minimum + 2, "B=\(b) P=\(p): \(m) moved, minimum \(minimum)")
            }
        }
        let table = movementTable()
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        #expect(text.contains(table), "README.md's movement table is stale; it should read:\n\(table)")
    }
}
