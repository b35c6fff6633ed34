import Testing

@testable import Broker

@Suite("Consistent-hash ring")
struct HashRingTests {
    let two = ["http://broker-0:9092", "http://broker-1:9092"]

    @Test("2 brokers × 4 partitions: both brokers own partitions, and the mapping is stable")
    func twoBrokersFourPartitions() {
        let ring = HashRing(nodes: two)
        let owners = (0..<4).map { ring.owner(topic: "telemetry", partition: $0)! }
        #expect(Set(owners).count == 2, "owners: \(owners)")
        // Same answer from a ring built again (another replica, a restart) and in another order.
        let again = HashRing(nodes: two.reversed())
        #expect((0..<4).map { again.owner(topic: "telemetry", partition: $0)! } == owners)
    }

    @Test("adding a third broker moves only keys whose owner changed, all to the new broker")
    func addingABroker() {
        let old = HashRing(nodes: two)
        let new = HashRing(nodes: two + ["http://broker-2:9092"])
        let recomputed = HashRing(nodes: ["http://broker-2:9092"] + two)
        var moved = 0
        let keys = 20_000
        for i in 0..<keys {
            let key = "topic\(i % 7):\(i)"
            let before = old.owner(of: key)!, after = new.owner(of: key)!
            #expect(after == recomputed.owner(of: key))
            if before != after {
                moved += 1
                #expect(after == "http://broker-2:9092", "key \(key) moved between old brokers")
            }
        }
        let fraction = Double(moved) / Double(keys)
        #expect(fraction > 0.23 && fraction < 0.43, "moved \(fraction) of keys; about 1/3 expected")
    }

    /// With 150 random points per broker the relative spread of a share is about 1/sqrt(150) ≈ 8%,
    /// so ±10% holds for these deployments (2 and 3 brokers, StatefulSet and loopback names),
    /// not for every possible set of names.
    @Test("with 150 virtual nodes every broker's share is within ±10% of even", arguments: [
        (0..<2).map { "http://telemetry-broker-\($0).telemetry-broker.telemetry.svc.cluster.local:9092" },
        (0..<3).map { "http://telemetry-broker-\($0).telemetry-broker.telemetry.svc.cluster.local:9092" },
        (0..<2).map { "http://broker-\($0).broker.default.svc.cluster.local:9092" },
        (0..<3).map { "http://broker-\($0).broker.default.svc.cluster.local:9092" },
        ["http://127.0.0.1:9092", "http://127.0.0.1:9093"],
        ["http://127.0.0.1:9092", "http://127.0.0.1:9093", "http://127.0.0.1:9094"],
    ])
    func shares(nodes: [String]) {
        let brokers = nodes.count
        let ring = HashRing(nodes: nodes, virtualNodes: 150)
        let even = 1.0 / Double(brokers)
        let shares = ring.shares()
        #expect(abs(shares.values.reduce(0, +) - 1) < 1e-9)
        for (node, share) in shares {
            #expect(abs(share - even) <= 0.10 * even, "\(node) owns \(share) of the hash space (even: \(even))")
        }
        // And over real keys.
        var counts: [String: Int] = [:]
        let keys = 60_000
        for i in 0..<keys { counts[ring.owner(of: "t\(i % 13):\(i)")!, default: 0] += 1 }
        for (node, c) in counts {
            let share = Double(c) / Double(keys)
            #expect(abs(share - even) <= 0.10 * even, "\(node) got \(share) of keys")
        }
    }

    @Test("preference lists start at the owner and name every broker once")
    func preference() {
        let ring = HashRing(nodes: two + ["http://broker-2:9092"])
        for p in 0..<16 {
            let key = HashRing.key(topic: "t", partition: p)
            let pref = ring.preference(for: key)
            #expect(pref.first == ring.owner(of: key))
            #expect(Set(pref).count == 3 && pref.count == 3)
        }
    }

    @Test("topic partitions and StatefulSet URLs parse like the flags document")
    func parsing() {
        #expect(parseTopicPartitions("a=8,b=2") == ["a": 8, "b": 2])
        #expect(statefulSetBrokerURLs(service: "broker", count: 2, namespace: "ns", port: 9092)
            == ["http://broker-0.broker.ns.svc.cluster.local:9092", "http://broker-1.broker.ns.svc.cluster.local:9092"])
    }
}
