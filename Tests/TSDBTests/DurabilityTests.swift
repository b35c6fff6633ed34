import Foundation
import Primitives
import Testing
@testable import TSDB
import TelemetryTestSupport

/// Failed seals and interrupted deletions, with faults injected where they cannot be
/// produced for real (a full disk, a catalog error, a crash between catalog and unlink).
@Suite("Durability corners")
struct DurabilityTests {
    static func durable(_ dir: TempDir) -> TSDBOptions {
        var o = options(dir)
        o.maxFuture = nil
        return o
    }

    /// Appends `count` samples per series starting at second `from`.
    static func append(_ db: TSDB, _ refs: [SeriesRef], from: Int64, count: Int64) async throws {
        var b = SampleBatch(capacity: refs.count * Int(count))
        for (k, r) in refs.enumerated() {
            for t in from..<(from + count) { b.append(r, t * sec, Double(t * 10 + Int64(k))) }
        }
        try await db.append(b)
    }

    /// Every series holds exactly the seconds in `range`, once each, with the written values.
    static func expectExactly(_ db: TSDB, _ range: Range<Int64>, series: Int, _ what: String) throws {
        let r = try db.query(Query(metric: "dur"))
        #expect(r.series.count == series, "\(what): \(r.series.count) series")
        for s in r.series {
            let k = Int64(s.labels["k"] ?? "") ?? -1
            #expect(s.timestamps == range.map { $0 * sec }, "\(what): series \(k) has \(s.timestamps.count) samples")
            #expect(s.values == range.map { Double($0 * 10 + k) }, "\(what): series \(k) values")
        }
    }

    static func labels(_ n: Int) -> [Labels] { (0..<n).map { Labels(["__name__": "dur", "k": String($0)]) } }

    @Test("a failed seal keeps its data and WAL; the next seal retries it first, so a reopen loses nothing")
    func failedSealIsRetried() async throws {
        let dir = TempDir("dur-seal")
        var db = try await TSDB.open(Self.durable(dir))
        let refs = try db.resolve(Self.labels(4))
        try await Self.append(db, refs, from: 0, count: 100)
        db.faults.arm(.sealWrite, .fail(times: 1))
        #expect(throws: TSDBError.self) { try db.sealHead() }
        try Self.expectExactly(db, 0..<100, series: 4, "after the failed seal")
        try await Self.append(db, refs, from: 100, count: 100)
        // This seal must write the failed head too before deleting any WAL segment.
        let sealed = try db.sealHead()
        #expect(sealed == 800)
        try await db.close()
        db = try await TSDB.open(Self.durable(dir))
        try Self.expectExactly(db, 0..<200, series: 4, "after reopening")
        try await db.close()
        let report = try TSDB.check(directory: dir.path)
        #expect(report.isClean, "\(report.problems)")
    }

    @Test("a catalog error after the block was renamed into place is retried without a stray block")
    func catalogErrorDuringSeal() async throws {
        let dir = TempDir("dur-cat")
        var db = try await TSDB.open(Self.durable(dir))
        let refs = try db.resolve(Self.labels(3))
        try await Self.append(db, refs, from: 0, count: 50)
        db.faults.arm(.sealCatalog, .fail(times: 2))
        #expect(throws: TSDBError.self) { try db.sealHead() }
        try await Self.append(db, refs, from: 50, count: 50)
        #expect(throws: TSDBError.self) { try db.sealHead() }
        try Self.expectExactly(db, 0..<100, series: 3, "after two failed seals")
        #expect(try db.sealHead() == 300)
        try Self.expectExactly(db, 0..<100, series: 3, "after the retried seal")
        try await db.close()
        #expect(try TSDB.check(directory: dir.path).isClean)
        db = try await TSDB.open(Self.durable(dir))
        try Self.expectExactly(db, 0..<100, series: 3, "after reopening")
        try await db.close()
    }

    @Test("a compaction interrupted between its catalog swap and the unlink is finished on open, data once")
    func interruptedCompaction() async throws {
        let dir = TempDir("dur-compact")
        var db = try await TSDB.open(Self.durable(dir))
        let refs = try db.resolve(Self.labels(4))
        for part in Int64(0)..<3 {
            try await Self.append(db, refs, from: part * 100, count: 100)
            try db.sealHead()
        }
        let inputs = try db.catalog.blocks().map(\.id)
        #expect(inputs.count == 3)
        db.faults.arm(.compactionSwapped, .fail(times: 1))
        #expect(throws: TSDBError.self) { try db.compactBlocks() }
        try Self.expectExactly(db, 0..<300, series: 4, "after the interrupted compaction")
        try await db.close()
        // The inputs are still on disk, recorded as pending deletions; check accepts that.
        for id in inputs { #expect(FileManager.default.fileExists(atPath: "\(dir.path)/blocks/\(id)")) }
        let before = try TSDB.check(directory: dir.path)
        #expect(before.isClean, "\(before.problems)")
        db = try await TSDB.open(Self.durable(dir))
        for id in inputs { #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/blocks/\(id)"), "input \(id) came back") }
        #expect(try db.catalog.blocks().count == 1)
        #expect(try db.catalog.pendingDeletions().isEmpty)
        try Self.expectExactly(db, 0..<300, series: 4, "after reopening")
        try await db.close()
        #expect(try TSDB.check(directory: dir.path).isClean)
    }

    @Test("retention interrupted between the catalog and the unlink never brings deleted data back")
    func interruptedRetention() async throws {
        let dir = TempDir("dur-retention")
        var o = Self.durable(dir)
        o.retention = 1_000 * sec
        o.clock = { 5_000 * sec }
        var db = try await TSDB.open(o)
        let refs = try db.resolve(Self.labels(2))
        try await Self.append(db, refs, from: 0, count: 100)        // older than the cutoff
        try db.sealHead()
        try await Self.append(db, refs, from: 4_500, count: 100)    // kept
        try db.sealHead()
        db.faults.arm(.retentionRecorded, .fail(times: 1))
        #expect(throws: TSDBError.self) { try db.applyRetention() }
        try Self.expectExactly(db, 4_500..<4_600, series: 2, "after the interrupted retention")
        try await db.close()
        o.retention = nil   // the reopened engine must not depend on retention running again
        db = try await TSDB.open(o)
        try Self.expectExactly(db, 4_500..<4_600, series: 2, "after reopening")
        #expect(try db.catalog.blocks().count == 1)
        try await db.close()
        let report = try TSDB.check(directory: dir.path)
        #expect(report.isClean, "\(report.problems)")
        let left = try FileManager.default.contentsOfDirectory(atPath: "\(dir.path)/blocks").filter { !$0.hasPrefix(".") }
        #expect(left.count == 1)
    }
}
