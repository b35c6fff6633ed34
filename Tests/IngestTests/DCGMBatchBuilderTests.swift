import Foundation
import Testing
import TSDB
@testable import Ingest
import TelemetryTestSupport

/// The one DCGM write path (``DCGMBatchBuilder``) as `import`, ``TSDBSink`` and the CSV
/// write routes use it.
@Suite("DCGM batch builder")
struct DCGMBatchBuilderTests {
    /// Two bodies whose rows have identical bytes but whose headers order the columns
    /// differently: the same bytes mean different labels, so they are two series.
    static let gpuFirst = Array("""
        timestamp,metric_name,gpu_id,Hostname,value
        2026-01-01T00:00:00Z,DCGM_FI_DEV_GPU_UTIL,0,host1,5

        """.utf8)
    static let hostFirst = Array("""
        timestamp,metric_name,Hostname,gpu_id,value
        2026-01-01T00:00:00Z,DCGM_FI_DEV_GPU_UTIL,0,host1,5

        """.utf8)

    static func labelPairs(_ db: TSDB) throws -> Set<String> {
        Set(try db.query(Query()).series.map { "\($0.labels["gpu"] ?? "?")@\($0.labels["Hostname"] ?? "?")" })
    }

    @Test func sinkKeepsSeriesApartWhenHeadersOrderColumnsDifferently() async throws {
        let dirTemp = TempDir("ingest-sink-header")
        let dir = dirTemp.path
        let db = try await TSDB.open(TSDBOptions(directory: dir))
        let sink = TSDBSink(db)
        #expect(try await sink.write(documents: [Self.gpuFirst]) == 1)
        #expect(try await sink.write(documents: [Self.hostFirst]) == 1)
        #expect(try Self.labelPairs(db) == ["0@host1", "host1@0"])
        // Both in one call, too.
        let dir2Temp = TempDir("ingest-sink-header-one-call")
        let dir2 = dir2Temp.path
        let db2 = try await TSDB.open(TSDBOptions(directory: dir2))
        #expect(try await TSDBSink(db2).write(documents: [Self.gpuFirst, Self.hostFirst]) == 2)
        #expect(try Self.labelPairs(db2) == ["0@host1", "host1@0"])
    }

    @Test func importerKeepsSeriesApartAcrossFilesWithDifferentHeaders() async throws {
        let dirTemp = TempDir("ingest-import-header")
        let dir = dirTemp.path
        let a = dir + "/a.csv", b = dir + "/b.csv"
        try Data(Self.gpuFirst).write(to: URL(fileURLWithPath: a))
        try Data(Self.hostFirst).write(to: URL(fileURLWithPath: b))
        let db = try await TSDB.open(TSDBOptions(directory: dir + "/tsdb"))
        let importer = DCGMImporter(db: db)
        _ = try await importer.importFile(path: a)
        _ = try await importer.importFile(path: b)
        #expect(try Self.labelPairs(db) == ["0@host1", "host1@0"])
    }

    /// A cache far smaller than the series written restarts empty and still maps every row
    /// to its own series, and a second write of the same rows adds no series.
    @Test func boundedCacheStaysCorrect() async throws {
        let dirTemp = TempDir("ingest-sink-bound")
        let dir = dirTemp.path
        let db = try await TSDB.open(TSDBOptions(directory: dir))
        let sink = TSDBSink(db, maxCachedSeries: 16)
        var csv = "timestamp,metric_name,gpu_id,Hostname,value\n"
        for g in 0..<200 { csv += "2026-01-01T00:00:00Z,DCGM_FI_DEV_GPU_UTIL,\(g),h,\(g)\n" }
        #expect(try await sink.write(documents: [Array(csv.utf8)]) == 200)
        #expect(try await sink.write(documents: [Array(csv.utf8)]) == 200)
        #expect(db.seriesCount == 200)
        let result = try db.query(Query())
        #expect(result.series.count == 200)
        for s in result.series {
            #expect(s.values.allSatisfy { String(Int($0)) == s.labels["gpu"] })
        }
    }

    @Test func badDocumentNamesItsIndexAndStoresNothing() async throws {
        let dirTemp = TempDir("ingest-sink-bad")
        let dir = dirTemp.path
        let db = try await TSDB.open(TSDBOptions(directory: dir))
        do {
            _ = try await TSDBSink(db).write(documents: [Self.gpuFirst, Array("timestamp,metric_name,value\nx,m,1\n".utf8)])
            Issue.record("a bad second document was accepted")
        } catch SinkError.malformed(let document, let reason) {
            #expect(document == 1)
            #expect(reason.contains("bad timestamp"), "\(reason)")
        }
        #expect(db.seriesCount == 0)
    }

    @Test func chunkedReaderSeesEveryByteOnce() throws {
        let dirTemp = TempDir("ingest-reader")
        let dir = dirTemp.path
        let path = dir + "/f"
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var reader = try ChunkedFileReader(path: path, chunkSize: 64)
        var seen: [UInt8] = [], chunks = 0
        while try reader.next({ (chunk: UnsafeRawBufferPointer) -> Void in seen.append(contentsOf: chunk); chunks += 1 }) != nil {}
        #expect(seen == bytes)
        #expect(chunks == 16)
        #expect(throws: DCGMError.self) { _ = try ChunkedFileReader(path: dir) }
        #expect(throws: DCGMError.self) { _ = try ChunkedFileReader(path: dir + "/missing") }
    }
}
