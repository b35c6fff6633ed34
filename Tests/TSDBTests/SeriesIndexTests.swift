import Testing
@testable import TSDB

/// The series mirror keeps labels as interned pair ids: the labels read back exactly, series
/// sharing a hash stay apart, ids may arrive with gaps, and the postings list every series.
@Suite("Series index (interned labels)")
struct SeriesIndexTests {
    static func labels(_ host: String, gpu: Int, metric: String = "util") -> Labels {
        Labels(["__name__": metric, "Hostname": host, "gpu": "\(gpu)", "UUID": "GPU-\(host)-\(gpu)-0000-0000-000000000000"])
    }

    @Test func labelsReadBackAndSharedHashesStayApart() {
        var index = SeriesIndex()
        var all: [(UInt32, Labels)] = []
        var id: UInt32 = 1
        for h in 0..<20 {
            for g in 0..<8 {
                let l = Self.labels("host-\(h)", gpu: g, metric: g % 2 == 0 ? "util" : "temp")
                // Every fourth series shares a hash with the one before it.
                index.add(id: id, labels: l, hash: UInt64(id / 2))
                all.append((id, l))
                id += id % 7 == 0 ? 3 : 1  // gaps in the ids
            }
        }
        #expect(index.count == all.count)
        for (id, l) in all {
            #expect(index.contains(id))
            #expect(index.labels(of: id) == l)
            #expect(index.lookup(l, hash: UInt64(id / 2)) == id)
            #expect(index.hasLabel("gpu", id) && !index.hasLabel("pod", id))
        }
        #expect(index.lookup(Self.labels("host-0", gpu: 9), hash: 0) == nil)
        #expect(!index.contains(0) && !index.contains(index.maxID + 1))
        #expect(index.labels(of: index.maxID + 5) == nil)
        let hosts = index.postings["Hostname"] ?? [:]
        #expect(hosts.count == 20 && hosts.values.allSatisfy { $0.count == 8 })
        #expect(index.values(of: "__name__") == ["temp", "util"])
    }

    @Test func addingAnIDTwiceKeepsTheFirst() {
        var index = SeriesIndex()
        let a = Self.labels("a", gpu: 0), b = Self.labels("b", gpu: 0)
        index.add(id: 3, labels: a, hash: 1)
        index.add(id: 3, labels: b, hash: 2)
        #expect(index.count == 1 && index.labels(of: 3) == a && index.maxID == 3)
        #expect(index.lookup(b, hash: 2) == nil)
        #expect(!index.contains(1) && !index.contains(2))
    }
}
