import Foundation
import Testing
import TSDB
@testable import Ingest
import TelemetryTestSupport

/// remote_write decoded in place into a batch (``RemoteWriteBatchBuilder``): the samples,
/// series and errors of ``RemoteWrite/decode(_:limits:)``, whether a series is new (full
/// decode) or known (found by its label bytes), and recovery from stale refs.
@Suite("remote_write batch builder")
struct RemoteWriteBatchBuilderTests {
    /// The plain decoder's samples with each series' ref in `db` (created if new).
    static func expected(_ body: [UInt8], db: TSDB) throws -> SampleBatch {
        let r = try RemoteWrite.decode(body)
        let refs = try db.resolve(r.series)
        var b = SampleBatch()
        for i in 0..<r.sampleCount { b.append(refs[r.seriesOfSample[i]], r.timestamps[i], r.values[i]) }
        return b
    }

    static func same(_ a: SampleBatch, _ b: SampleBatch) -> Bool {
        a.refs == b.refs && a.timestamps == b.timestamps && a.values.map(\.bitPattern) == b.values.map(\.bitPattern)
    }

    /// A series whose labels are split by its samples (legal protobuf, unusual for senders).
    static func interleaved() -> [UInt8] {
        func label(_ n: String, _ v: String) -> [UInt8] {
            var l: [UInt8] = []
            RemoteWriteEncoder.appendBytes(&l, field: 1, Array(n.utf8))
            RemoteWriteEncoder.appendBytes(&l, field: 2, Array(v.utf8))
            return l
        }
        var sample: [UInt8] = []
        RemoteWriteEncoder.appendTag(&sample, field: 2, wire: 0); RemoteWriteEncoder.appendVarint(&sample, 5_000)
        var ts: [UInt8] = []
        RemoteWriteEncoder.appendBytes(&ts, field: 1, label("__name__", "split"))
        RemoteWriteEncoder.appendBytes(&ts, field: 2, sample)
        RemoteWriteEncoder.appendBytes(&ts, field: 1, label("job", "x"))
        var body: [UInt8] = []
        RemoteWriteEncoder.appendBytes(&body, field: 1, ts)
        return body
    }

    @Test("new and known series give the plain decoder's samples under the same refs")
    func sameAsPlainDecode() async throws {
        let dir = temporaryDirectory("rw-batch-same")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try await TSDB.open(TSDBOptions(directory: dir))
        let builder = RemoteWriteBatchBuilder()
        var body = RemoteWriteTests.twoSeries()
        body += Self.interleaved()
        var e = RemoteWriteEncoder()
        e.series(RemoteWriteTests.gpuLabels, samples: [(1_752_871_356_000, 9)])  // the first series again
        body += e.bytes
        let want = try Self.expected(body, db: db)
        var first = try builder.parse(body)
        #expect(first.seriesCount == 4 && first.metadataCount == 1 && first.sampleCount == 5)
        #expect(first.batch.refs.allSatisfy { $0 == 0 })
        #expect(Self.same(try builder.seal(&first, db: db), want))
        var second = try builder.parse(body)
        #expect(second.batch.refs.allSatisfy { $0 != 0 }, "known series come from the cache")
        #expect(Self.same(try builder.seal(&second, db: db), want))
        #expect(db.seriesCount == 3)
        try await db.close()
    }

    @Test("exemplars and histograms are counted on the cached path too")
    func skippedCounts() async throws {
        let dir = temporaryDirectory("rw-batch-skip")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try await TSDB.open(TSDBOptions(directory: dir))
        let builder = RemoteWriteBatchBuilder()
        var ts: [UInt8] = []
        var label: [UInt8] = []
        RemoteWriteEncoder.appendBytes(&label, field: 1, Array("__name__".utf8))
        RemoteWriteEncoder.appendBytes(&label, field: 2, Array("m".utf8))
        RemoteWriteEncoder.appendBytes(&ts, field: 1, label)
        RemoteWriteEncoder.appendBytes(&ts, field: 3, [0x08, 0x01])
        RemoteWriteEncoder.appendBytes(&ts, field: 4, [0x08, 0x01])
        var sample: [UInt8] = []
        RemoteWriteEncoder.appendTag(&sample, field: 2, wire: 0); RemoteWriteEncoder.appendVarint(&sample, 1000)
        RemoteWriteEncoder.appendBytes(&ts, field: 2, sample)
        var body: [UInt8] = []
        RemoteWriteEncoder.appendBytes(&body, field: 1, ts)
        for round in 0..<2 {
            var p = try builder.parse(body)
            #expect(p.exemplarsSkipped == 1 && p.histogramsSkipped == 1, "round \(round)")
            #expect(try builder.seal(&p, db: db).timestamps == [1_000_000_000])
        }
        try await db.close()
    }

    /// Seeded corruption of a body whose series are cached: every result (samples or the
    /// error, byte offset and all) is the plain decoder's, so a cache hit skips no check a
    /// new series would fail.
    @Test("corrupted bodies: the plain decoder's errors, cached series or not")
    func corruptionMatchesPlainDecode() async throws {
        let dir = temporaryDirectory("rw-batch-corrupt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try await TSDB.open(TSDBOptions(directory: dir))
        let seed: UInt64 = 0x5EED_0013
        var rng = SeededGenerator(seed: seed)
        let base = RemoteWriteTests.twoSeries() + Self.interleaved()
        let warm = RemoteWriteBatchBuilder()
        var p = try warm.parse(base)
        _ = try warm.seal(&p, db: db)
        var decoded = 0, refused = 0
        for _ in 0..<3_000 {
            let body = rng.corrupt(base, maxEdits: 3)
            let plain = Result { () throws(RemoteWriteError) in try RemoteWrite.decode(body) }
            for builder in [warm, RemoteWriteBatchBuilder()] {
                let batched = Result { () throws(RemoteWriteError) in try builder.parse(body) }
                switch (plain, batched) {
                case (.failure(let a), .failure(let b)):
                    #expect(a == b, "seed \(seed)")
                    refused += 1
                case (.success(let a), .success(var b)):
                    // Corruption may make invalid label sets that the catalog refuses: skip those.
                    guard a.series.allSatisfy({ $0.metric != nil }) else { continue }
                    #expect(a.exemplarsSkipped == b.exemplarsSkipped && a.histogramsSkipped == b.histogramsSkipped, "seed \(seed)")
                    #expect(Self.same(try builder.seal(&b, db: db), try Self.expected(body, db: db)), "seed \(seed)")
                    decoded += 1
                default:
                    Issue.record("seed \(seed): plain decode \(plain), builder \(batched)")
                }
            }
        }
        #expect(decoded > 0 && refused > 0, "seed \(seed)")
        try await db.close()
    }

    @Test("a stale cached ref is refused by the engine; invalidate() resolves afresh")
    func staleRefsResolveAfresh() async throws {
        let dir = temporaryDirectory("rw-batch-stale")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try await TSDB.open(TSDBOptions(directory: dir + "/a"))
        let second = try await TSDB.open(TSDBOptions(directory: dir + "/b"))
        let builder = RemoteWriteBatchBuilder()
        let body = RemoteWriteTests.twoSeries()
        var p = try builder.parse(body)
        try await first.append(try builder.seal(&p, db: first))
        _ = try second.resolve(Labels(["__name__": "other"]))
        var q = try builder.parse(body)
        await #expect(throws: TSDBError.self) { try await second.append(try builder.seal(&q, db: second)) }
        builder.invalidate()
        var r = try builder.parse(body)
        #expect(try await second.append(try builder.seal(&r, db: second)).appended == 3)
        #expect(try second.query(Query(metric: "up")).series.first?.values == [1])
        try await first.close()
        try await second.close()
    }
}
