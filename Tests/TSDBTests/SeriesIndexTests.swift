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

    /// A query's view, taken before more series arrive, still reads exactly what it saw,
    /// across page boundaries of the paged storage (pages of 16,384 entries), and the
    /// index goes on reading the new series; the narrowed and counted forms equal the
    /// full labels'.
    @Test func aViewTakenEarlierIsUnchangedByLaterSeries() {
        var index = SeriesIndex()
        var all: [Labels] = []
        for i in 0..<30_000 {
            let l = Self.labels("h\(i / 8)", gpu: i % 8)
            index.add(id: UInt32(i + 1), labels: l, hash: UInt64(i + 1))
            all.append(l)
        }
        let view = index.view
        for i in 30_000..<45_000 {
            let l = Self.labels("late\(i / 8)", gpu: i % 8)
            index.add(id: UInt32(i + 1), labels: l, hash: UInt64(i + 1))
            all.append(l)
        }
        #expect(!view.contains(30_001) && view.labels(of: 30_001) == nil)
        #expect(index.contains(45_000) && !index.contains(45_001))
        var mismatches = 0
        var key: [UInt32] = [7]
        for (k, l) in all.enumerated() {
            let id = UInt32(k + 1)
            if index.labels(of: id) != l { mismatches += 1 }
            if k < 30_000 {
                if view.labels(of: id) != l { mismatches += 1 }
                if view.labels(of: id, keeping: ["gpu", "Hostname"]) != l.keeping(["gpu", "Hostname"]) { mismatches += 1 }
                if view.canonicalByteCount(of: id) != l.canonicalBytes.count { mismatches += 1 }
                view.pairIDs(of: id, keeping: ["gpu", "Hostname"], into: &key)
                if key.map({ view.pair($0) }) != l.keeping(["gpu", "Hostname"]).pairs { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
        #expect(view.canonicalByteCount(of: 99_999) == 0)
    }

    @Test func pagedArrayGrowsAndWritesAcrossPages() {
        var a = PagedArray<UInt32>(first: 7)
        a.grow(to: 40_000, with: 0)
        a[33_000] = 5
        let copy = a
        a[16_384] = 9
        a.append(11)
        #expect(a.count == 40_001 && copy.count == 40_000)
        #expect(a[0] == 7 && a[33_000] == 5 && a[16_384] == 9 && a[40_000] == 11)
        #expect(copy[16_384] == 0 && copy[33_000] == 5)
    }
}
