import Foundation
import Testing
@testable import TSDB
import TelemetryTestSupport

@Suite("Storage: blocks, compaction, retention, damage")
struct StorageTests {
    /// Writes two WAL records of 10 instants into `dir`, closes it and returns the path of
    /// the WAL segment that holds them.
    func lastSegmentOfTwoRecords(_ dir: TempDir) async throws -> String {
        let db = try await TSDB.open(options(dir))
        try await fill(db, from: 0, count: 10)
        try await fill(db, from: 10, count: 10)
        try await db.close()
        let wal = "\(dir.path)/wal"
        let segment = try #require(WALSegments.list(wal).last)
        return "\(wal)/\(WALSegments.name(segment))"
    }

    func fill(_ db: TSDB, from: Int, count: Int, series: Int = 3) async throws {
        var samples: [LabeledSample] = []
        for s in 0..<series {
            for i in from..<(from + count) {
                samples.append(LabeledSample(labels: gpuLabels("M", uuid: "GPU-\(s)", host: "h", gpu: s), timestamp: t0 + Int64(i) * sec, value: Double(i * 10 + s)))
            }
        }
        try await db.append(samples)
    }

    @Test("blocks compact into one, overlapping rewrites keep the newest value, retention drops old blocks")
    func compactionAndRetention() async throws {
        let dir = TempDir()
        var o = options(dir)
        o.compactedBlockDuration = 10_000 * sec
        o.outOfOrderWindow = 100_000 * sec
        let db = try await TSDB.open(o)
        try await fill(db, from: 0, count: 100)
        try await db.flush()
        try await fill(db, from: 100, count: 100)
        // Rewrite an old timestamp: it must win over the sealed block.
        let ref = try db.resolve(gpuLabels("M", uuid: "GPU-0", host: "h", gpu: 0))
        var b = SampleBatch()
        b.append(ref, t0 + 50 * sec, -1)
        try await db.append(b)
        var q = Query(metric: "M", matchers: [try LabelMatcher(parsing: "gpu=0")], start: t0 + 50 * sec, end: t0 + 50 * sec)
        #expect(try db.query(q).series[0].values == [-1])
        let report = try await db.flush()
        #expect(report.blocksCompacted == 2)
        #expect(try db.stats().blocks == 1)
        #expect(try db.query(q).series[0].values == [-1])
        q.start = .min; q.end = .max
        #expect(try db.query(q).series[0].timestamps.count == 200)
        try await db.close()
        #expect(try TSDB.check(directory: dir.path).isClean)

        // Retention: a block entirely older than the cutoff (behind the wall clock) goes.
        var r = o
        r.retention = 1000 * sec
        r.clock = { t0 + 5010 * sec }
        r.compactedBlockDuration = 100 * sec
        let db2 = try await TSDB.open(r)
        try await fill(db2, from: 5000, count: 10)
        let f = try await db2.flush()
        #expect(f.blocksDeletedByRetention == 1)
        #expect(try db2.stats().samples == 30)
        try await db2.close()
    }

    @Test("a corrupted WAL record is cut off and reported; earlier records survive")
    func corruptedWAL() async throws {
        let dir = TempDir()
        let path = try await lastSegmentOfTwoRecords(dir)
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        bytes[bytes.count - 5] ^= 0xFF   // inside the second record
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        #expect(try !TSDB.check(directory: dir.path).isClean)
        let db = try await TSDB.open(options(dir))
        #expect(db.replayReport.records == 1)
        #expect(db.replayReport.problems.count == 1)
        #expect(db.replayReport.truncatedBytes > 0)
        #expect(try db.stats().samples == 30)
        try await db.close()
        #expect(try TSDB.check(directory: dir.path).isClean)
    }

    @Test("a torn WAL tail (half a record) is truncated on open")
    func tornWAL() async throws {
        let dir = TempDir()
        let path = try await lastSegmentOfTwoRecords(dir)
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        FileManager.default.createFile(atPath: path, contents: Data(bytes[0..<(bytes.count - 7)]))
        let db = try await TSDB.open(options(dir))
        #expect(db.replayReport.samples == 30)
        #expect(!db.replayReport.problems.isEmpty)
        try await fill(db, from: 20, count: 1)
        try await db.close()
        let again = try await TSDB.open(options(dir))
        #expect(again.replayReport.problems.isEmpty)
        #expect(try again.stats().samples == 33)
        try await again.close()
    }

    @Test("a torn or damaged block is reported by check and by queries, never a crash; half-written temporaries are ignored")
    func tornBlock() async throws {
        let dir = TempDir()
        do {
            let db = try await TSDB.open(options(dir))
            try await fill(db, from: 0, count: 500)
            try await db.flush()
            try await db.close()
        }
        #expect(try TSDB.check(directory: dir.path).isClean)
        // A crash mid-write leaves a temporary directory: ignored and removed on open.
        let tmp = "\(dir.path)/blocks/.tmp-b9999999999"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: "\(tmp)/chunks", contents: Data([1, 2, 3]))
        let blocks = try FileManager.default.contentsOfDirectory(atPath: "\(dir.path)/blocks").filter { !$0.hasPrefix(".") }
        let chunks = "\(dir.path)/blocks/\(blocks[0])/chunks"
        var bytes = [UInt8](FileManager.default.contents(atPath: chunks)!)
        bytes[bytes.count / 2] ^= 0x5A
        FileManager.default.createFile(atPath: chunks, contents: Data(bytes))
        let report = try TSDB.check(directory: dir.path)
        #expect(!report.isClean)
        #expect(report.problems.contains { $0.contains("checksum") })
        let db = try await TSDB.open(options(dir))
        #expect(!FileManager.default.fileExists(atPath: tmp))
        #expect(throws: TSDBError.self) { try db.query(Query(metric: "M")) }
        try await db.close()
        // Truncated chunk file (torn write that escaped fsync): refused, not mapped past its end.
        FileManager.default.createFile(atPath: chunks, contents: Data(bytes[0..<(bytes.count / 3)]))
        #expect(try !TSDB.check(directory: dir.path).isClean)
        let db2 = try await TSDB.open(options(dir))
        #expect(try db2.query(Query(metric: "M")).series.isEmpty)
        try await db2.close()
    }

    @Test("concurrent writers and readers: every query sees whole batches")
    func concurrency() async throws {
        let dir = TempDir()
        let db = try await TSDB.open(options(dir))
        let refs = try db.resolve((0..<8).map { gpuLabels("C", uuid: "GPU-\($0)", host: "h", gpu: $0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<2 {
                group.addTask {
                    for round in 0..<50 {
                        // Each batch writes one sample to each of the 8 series at one time.
                        var b = SampleBatch()
                        for r in refs { b.append(r, t0 + Int64(round * 2 + w) * sec, Double(round)) }
                        try await db.append(b)
                    }
                }
            }
            group.addTask {
                for _ in 0..<100 {
                    let r = try db.query(Query(metric: "C"))
                    let counts = Set(r.series.map(\.timestamps.count))
                    #expect(counts.count <= 1, "a query saw half a batch: \(counts)")
                    if r.series.count > 0 { #expect(r.series.count == 8) }
                    await Task.yield()
                }
            }
            try await group.waitForAll()
        }
        #expect(try db.query(Query(metric: "C")).series.allSatisfy { $0.timestamps.count == 100 })
        try await db.close()
    }
}
