import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import Broker
import TelemetryTestSupport

@Suite("Untrusted numbers: ids, partitions and on-disk lengths never trap")
struct UntrustedNumbersTests {
    @Test("record ids parse without overflow", arguments: [
        ("0-0", true), ("3-42", true), ("2147483647-9223372036854775807", true),
        ("0-9223372036854775808", false), ("0-12345678901234567890", false), ("0-99999999999999999999", false),
        ("0-000000000000000000001", false), ("2147483648-0", false), ("99999999999-1", false),
        ("-1-5", false), ("1-", false), ("-5", false), ("a-1", false), ("1-2-3", false), ("", false), ("1", false),
        ("1- 2", false), ("١-2", false),
    ])
    func recordIDs(_ id: String, _ valid: Bool) {
        switch RecordID.parse(id) {
        case .success(let r):
            #expect(valid, "\(id) parsed as \(r)")
            #expect(RecordID.format(partition: r.partition, offset: r.offset) == id)
        case .failure(let error):
            #expect(!valid, "\(id): \(error)")
            #expect(error.httpStatus == 400)
        }
    }

    @Test("ack with a 20-digit id, and any malformed id, is a 400 with a JSON error; nothing is acked")
    func ackMalformedIDs() async throws {
        try await withBroker { b in
            let ids = try await produceBatch(b.url, topic: "t", partition: 0, [payload(1)])
            _ = try await b.broker.poll(topic: "t", partition: 0, group: "g", maxRecords: 1, wait: .seconds(1))
            for bad in ["0-12345678901234567890", "0-99999999999999999999999999", "99999999999999999999-0", "0--1", "zero"] {
                let r = try await ack(b.url, topic: "t", partition: 0, group: "g", ids: ids + [bad])
                #expect(r.status == 400, "\(bad): \(r.status) \(r.text)")
                let error = r.json()["error"] as? [String: Any]
                #expect(error?["code"] as? String == "bad_request")
                #expect((error?["message"] as? String ?? "").contains("record id"), "\(r.text)")
            }
            let group = await b.broker.topicsInfo().first { $0.name == "t" }?.partitions[0].groups.first
            #expect(group?.pending == 1 && group?.committed == 0, "a rejected request settled nothing")
            #expect(try await ack(b.url, topic: "t", partition: 0, group: "g", ids: ids).status == 200)
        }
    }

    @Test("negative, huge and non-numeric partitions are a 400 on every route, broker and proxy")
    func badPartitions() async throws { try await withCleanup { cleanup in
        let b = try await RunningBroker.start()
        cleanup.add { await b.stop() }
        let proxy = try await RunningProxy.start(brokers: [b.url])
        cleanup.add { await proxy.stop() }
        for base in [b.url, proxy.url] {
            for p in ["-1", "-9223372036854775808", "99999999999999999999", "2147483648", "1e3", "0x1", "", " 1"] {
                let q = "topic=t&partition=\(p.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? p)&group=g"
                let produce = try await http(.POST, "\(base)/produce?\(q)", body: [1])
                #expect(produce.status == 400, "\(base) produce partition=\(p): \(produce.status) \(produce.text)")
                #expect(produce.json()["error"] != nil)
                let ackR = try await http(.POST, "\(base)/ack?\(q)", body: Array("{\"ids\":[\"0-0\"]}".utf8))
                #expect(ackR.status == 400, "\(base) ack partition=\(p): \(ackR.status)")
                let consume = try await http(.GET, "\(base)/consume?\(q)")
                #expect(consume.status == 400, "\(base) consume partition=\(p): \(consume.status)")
            }
        }
        #expect(await b.broker.topicsInfo().isEmpty, "no bad request created a topic")
    } }

    /// Appends raw bytes to partition 0's first segment of topic `t` in `dir`.
    func appendToSegment(_ dir: String, _ bytes: [UInt8]) throws {
        let path = dir + "/topics/t/0/" + Segment.fileName(baseOffset: 0)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(bytes))
        handle.closeFile()
    }

    @Test("a segment length field that is huge or 'negative' is corruption reported, not a crash or an allocation",
          arguments: [UInt32(0xFFFF_FFF0), UInt32(0x8000_0000), UInt32(RecordFrame.maxPayloadBytes + 1)])
    func hugeLengthField(_ length: UInt32) async throws {
        let tmp = TempDir("broker")
        let dir = tmp.path
        try await withBroker(dir: dir) { b in
            _ = try await b.broker.produce(topic: "t", partition: 0, payloads: [payload(1), payload(2)])
        }
        var frame: [UInt8] = []
        frame.appendBE(length)
        frame.append(contentsOf: [UInt8](repeating: 0xAB, count: 60))
        try appendToSegment(dir, frame)
        try await withBroker(dir: dir) { b in
            let got = try await b.broker.poll(topic: "t", partition: 0, group: "g", maxRecords: 10, wait: .zero)
            #expect(got.map(\.payload) == [payload(1), payload(2)], "records before the corruption survive")
            let ids = try await b.broker.produce(topic: "t", partition: 0, payloads: [payload(3)])
            #expect(ids == ["0-2"], "the log continues after the last good record")
        }
    }

    @Test("a segment header whose base offset is out of range is refused with a clear error")
    func badBaseOffset() async throws {
        let tmp = TempDir("broker")
        let dir = tmp.path
        try await withBroker(dir: dir) { b in _ = try await b.broker.produce(topic: "t", partition: 0, payloads: [payload(1)]) }
        let path = dir + "/topics/t/0/" + Segment.fileName(baseOffset: 0)
        let fd = open(path, O_WRONLY)
        var header: [UInt8] = []
        header.appendBE(UInt64.max)
        _ = header.withUnsafeBytes { pwrite(fd, $0.baseAddress, 8, 8) }
        close(fd)
        var config = BrokerConfig(dataDirectory: dir)
        config.minFreeBytes = 0
        do {
            let broker = try await MessageBroker(config: config, logger: testLogger)
            try await broker.shutdown()
            Issue.record("opened a segment with base offset 2^64-1")
        } catch let error as BrokerError {
            #expect(error.description.contains("corrupt"), "\(error)")
        }
    }

    @Test("group state with an impossible offset or one beyond the log is ignored and reported; new records still arrive")
    func groupStateBeyondLog() async throws {
        let tmp = TempDir("broker")
        let dir = tmp.path
        try await withBroker(dir: dir) { b in
            _ = try await b.broker.produce(topic: "t", partition: 0, payloads: [payload(1), payload(2)])
            _ = try await b.broker.poll(topic: "t", partition: 0, group: "g", maxRecords: 10, wait: .zero)
            _ = try await b.broker.poll(topic: "t", partition: 0, group: "h", maxRecords: 10, wait: .zero)
        }
        let partitionDir = dir + "/topics/t/0"
        let g = try GroupStateFile.open(directory: partitionDir, group: "g", durable: false, logger: testLogger)
        try g.file.append(kind: .base, offsets: [1000])  // acks records that do not exist yet
        let h = try GroupStateFile.open(directory: partitionDir, group: "h", durable: false, logger: testLogger)
        try h.file.append(kind: .ack, offsets: [UInt64.max])  // checksummed, but no offset can be that large
        try await withBroker(dir: dir) { b in
            _ = try await b.broker.produce(topic: "t", partition: 0, payloads: [payload(3)])
            let forG = try await b.broker.poll(topic: "t", partition: 0, group: "g", maxRecords: 10, wait: .zero)
            #expect(forG.map(\.payload) == [payload(1), payload(2), payload(3)], "nothing beyond the log counted as acked")
            let forH = try await b.broker.poll(topic: "t", partition: 0, group: "h", maxRecords: 10, wait: .zero)
            #expect(forH.map(\.payload) == [payload(1), payload(2), payload(3)])
        }
    }
}
