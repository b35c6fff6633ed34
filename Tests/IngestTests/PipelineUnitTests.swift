import Foundation
import NIOCore
import Primitives
import Testing
import TSDB
@testable import Ingest

@Suite("Pipeline building blocks")
struct PipelineUnitTests {
    @Test func partitionIsStableAndInRange() {
        let p = Partitioner(partitions: 4)
        let uuid = "GPU-5fd4f087-86f3-7a43-b711-4771313afc50"
        let first = p.partition(uuid: uuid)
        #expect((0..<4).contains(first))
        #expect(p.partition(uuid: uuid) == first)
        // xxHash64 is seed-free and stable across processes: pin the value.
        #expect(Int(XXHash64.hash(uuid) % 4) == first)
    }

    @Test func shardsSplitWithoutOverlap() throws {
        let shards = try (0..<3).map { try Shard(index: $0, count: 3) }
        var counts = [0, 0, 0]
        for i in 0..<3000 {
            let owners = shards.filter { $0.owns(uuid: "GPU-\(i)") }
            #expect(owners.count == 1)
            counts[owners[0].index] += 1
        }
        #expect(counts.allSatisfy { $0 > 800 })
        #expect(throws: PipelineConfigError.self) { try Shard(parsing: "2/2") }
        #expect(throws: PipelineConfigError.self) { try Shard(parsing: "x") }
        #expect(try Shard(parsing: "1/2") == Shard(index: 1, count: 2))
    }

    @Test func retryPolicyBacksOffAndGivesUp() async throws {
        let policy = RetryPolicy(attempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(4))
        #expect(policy.ceiling(retry: 0) == .milliseconds(1))
        #expect(policy.ceiling(retry: 10) == .milliseconds(4))
        for r in 0..<8 { #expect(policy.delay(retry: r) <= .milliseconds(4)) }
        var calls = 0
        var retries = 0
        await #expect(throws: BrokerClientError.self) {
            _ = try await policy.run(onRetry: { _, _ in retries += 1 }) { () async throws -> Int in
                calls += 1
                throw BrokerClientError.retryable(status: 503, retryAfter: nil, message: "busy")
            }
        }
        #expect(calls == 3)
        #expect(retries == 2)
        calls = 0
        await #expect(throws: BrokerClientError.self) {
            _ = try await policy.run { () async throws -> Int in
                calls += 1
                throw BrokerClientError.rejected(status: 400, message: "bad")
            }
        }
        #expect(calls == 1)
        calls = 0
        let v = try await policy.run { () async throws -> Int in
            calls += 1
            if calls < 3 { throw BrokerClientError.connection("refused") }
            return 7
        }
        #expect(v == 7)
    }

    @Test func timestampModes() {
        var original = TimestampRewriter(mode: .original)
        #expect(original.map(5, now: 1000) == 5)

        var now = TimestampRewriter(mode: .now)
        let a = now.map(100, now: 10_000)
        let b = now.map(100, now: 10_050)
        let c = now.map(200, now: 10_060)
        #expect(a == 10_000 && b == a)   // rows sharing a timestamp keep sharing one
        #expect(c > b)

        var shift = TimestampRewriter(mode: .shift)
        let s = Nanos.second
        shift.beginPass()
        let p1 = [0, s, 2 * s].map { shift.map($0, now: 1_000 * s) }
        #expect(p1 == [1_000 * s, 1_001 * s, 1_002 * s])   // spacing kept, moved to now
        // Second pass right away: starts one spacing after the first ended, never overlapping.
        #expect(shift.nextPassStart(now: 1_000 * s) == 1_003 * s)
        shift.beginPass()
        let p2 = [0, s, 2 * s].map { shift.map($0, now: 1_000 * s) }
        #expect(p2 == [1_003 * s, 1_004 * s, 1_005 * s])
        // Later pass: starts at now.
        shift.beginPass()
        #expect(shift.map(0, now: 2_000 * s) == 2_000 * s)
    }

    @Test func sseParserAcrossChunks() {
        var parser = SSEParser()
        let text = ": hb\n\nid: a-1\ndata: aGVs\n\nid: a-2\r\ndata: bG8=\r\n\r\n"
        var events: [SSEParser.Event] = []
        for chunk in text.utf8.map({ $0 }).chunked(7) {
            events += parser.feed(ByteBuffer(bytes: chunk))
        }
        #expect(events.map { $0.id } == ["a-1", "a-2"])
        #expect(events.map { $0.data } == [Array("aGVs".utf8), Array("bG8=".utf8)])
        #expect(events.compactMap { Base64.decode($0.data) } == [Array("hel".utf8), Array("lo".utf8)])
    }

    @Test func batcherCopiesRowsIntoPartitionDocuments() throws {
        let original = try sampleRecords()
        var b = PayloadBatcher(partitions: 4, batchRows: 100)
        var parser = DCGMCSVParser()
        var out: [(partition: Int, message: OutgoingMessage)] = []
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: sampleCSVPath)))
        let onRow: (borrowing DCGMRow) throws -> Void = { row in
            if let full = b.add(row, timestamp: nil) { out.append(full) }
        }
        try bytes.withUnsafeBytes { try parser.feedRows($0, onRow) }
        try parser.finishRows(onRow)
        out += b.drain()
        #expect(out.reduce(0) { $0 + $1.message.rows } == 2470)
        let p = Partitioner(partitions: 4)
        var decoded: [DCGMRecord] = []
        for (partition, message) in out {
            #expect(message.rows <= 100)
            let rows = try MessageCodec.decode(message.payload)
            #expect(rows.count == message.rows)
            #expect(rows.allSatisfy { p.partition(uuid: $0.uuid) == partition })
            decoded += rows
        }
        // Raw copying keeps every field: the same records come out.
        #expect(Set(decoded) == Set(original))
    }

    @Test func batcherReordersForeignColumnOrders() throws {
        let lines = [
            "value,metric_name,timestamp,uuid,Hostname,labels_raw",
            "7,DCGM_FI_DEV_GPU_UTIL,2025-07-18T20:42:34Z,GPU-1,h1,\"job=\"\"j\"\"\"",
            "8,DCGM_FI_DEV_GPU_UTIL,2025-07-18T20:42:35Z,GPU-1,h1,\"job=\"\"j\"\"\"",
        ]
        let doc = Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
        let expected = try DCGMCSVParser.parse(doc).0
        #expect(expected.count == 2)
        var b = PayloadBatcher(partitions: 2, batchRows: 10)
        var parser = DCGMCSVParser()
        let onRow: (borrowing DCGMRow) throws -> Void = { row in _ = b.add(row, timestamp: nil) }
        try doc.withUnsafeBytes { try parser.feedRows($0, onRow) }
        try parser.finishRows(onRow)
        let rows = try b.drain().flatMap { try MessageCodec.decode($0.message.payload) }
        #expect(rows == expected)
        #expect(rows.first?.labels["job"] == "j")
    }

    @Test func batcherRewritesTimestamps() throws {
        var b = PayloadBatcher(partitions: 1, batchRows: 10)
        var parser = DCGMCSVParser()
        let doc = DCGMCSVWriter.document(Array(try sampleRecords().prefix(3)))
        let onRow: (borrowing DCGMRow) throws -> Void = { row in _ = b.add(row, timestamp: 1_800_000_000_123_000_000) }
        try doc.withUnsafeBytes { try parser.feedRows($0, onRow) }
        try parser.finishRows(onRow)
        let rows = try MessageCodec.decode(b.drain()[0].message.payload)
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { $0.timestamp == 1_800_000_000_123_000_000 })
    }

    @Test func writeSinkMergesDocumentsWithOneHeader() throws {
        let rows = try sampleRecords()
        let a = MessageCodec.encode(rows[0..<3]), b = MessageCodec.encode(rows[3..<5])
        let foreign = Array("metric_name,timestamp,value\nX,2025-07-18T20:42:34Z,1\n".utf8)
        let merged = HTTPWriteSink.merge([a, b, foreign])
        #expect(merged.count == 2)
        #expect(merged[0].rows == 5)
        #expect(try MessageCodec.decode(Array(buffer: merged[0].bytes)) == Array(rows[0..<5]))
        #expect(Array(buffer: merged[1].bytes) == foreign)
        #expect(merged[1].rows == 1)
        #expect(HTTPWriteSink.lineCount([]) == 0 && HTTPWriteSink.lineCount(Array("a\n\nb".utf8)) == 2)
    }

    @Test func messageCodecRoundTripAndStrictness() throws {
        let rows = Array(try sampleRecords().prefix(50))
        let payload = MessageCodec.encode(rows)
        let back = try MessageCodec.decode(payload)
        #expect(back == rows)
        #expect(throws: MalformedMessage.self) { try MessageCodec.decode(Array("this is not,a dcgm\ncsv document".utf8)) }
        var broken = payload
        broken.append(contentsOf: Array("\"2025-07-18T20:42:34Z\",\"X\",\"0\"\n".utf8))
        #expect(throws: MalformedMessage.self) { try MessageCodec.decode(broken) }
    }
}

extension Array {
    func chunked(_ n: Int) -> [[Element]] {
        stride(from: 0, to: count, by: n).map { Array(self[$0..<Swift.min($0 + n, count)]) }
    }
}
