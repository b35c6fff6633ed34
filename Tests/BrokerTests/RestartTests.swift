import Foundation
import Synchronization
import Primitives
import Testing

@testable import Broker
import TelemetryTestSupport

/// Polls until `wait` passes with nothing new; returns every record received.
func drain(_ broker: MessageBroker, topic: String, partition: Int, group: String, wait: Duration = .milliseconds(200)) async throws -> [BrokerRecord] {
    var out: [BrokerRecord] = []
    while true {
        let batch = try await broker.poll(topic: topic, partition: partition, group: group, maxRecords: 100, wait: wait)
        if batch.isEmpty { return out }
        out += batch
    }
}

@Suite("Broker restart")
struct RestartTests {
    @Test("clean restart: unacked records come back once per group, acked ones never", arguments: [FsyncPolicy.always, .batch, .none])
    func cleanRestart(policy: FsyncPolicy) async throws {
        let tmp = TempDir("broker")
        let dir = tmp.path
        var config = BrokerConfig(dataDirectory: dir)
        config.fsync = policy
        config.minFreeBytes = 0
        config.segmentBytes = 4096  // several segments
        let first = try await MessageBroker(config: config, logger: testLogger)
        let ids = try await first.produce(topic: "r", partition: 1, payloads: (0..<100).map { payload($0, size: 100) })
        let g = try await drain(first, topic: "r", partition: 1, group: "g")
        let h = try await drain(first, topic: "r", partition: 1, group: "h")
        #expect(g.count == 100 && h.count == 100)
        let ackedG = Set(ids.enumerated().filter { $0.offset % 3 == 0 || $0.offset < 40 }.map(\.element))
        let r1 = try await first.ack(topic: "r", partition: 1, group: "g", ids: Array(ackedG))
        #expect(r1.unknown.isEmpty)
        _ = try await first.ack(topic: "r", partition: 1, group: "h", ids: ids)
        try await first.shutdown()

        let second = try await MessageBroker(config: config, logger: testLogger)
        let again = try await drain(second, topic: "r", partition: 1, group: "g")
        #expect(again.map(\.id).sorted() == ids.filter { !ackedG.contains($0) }.sorted())
        #expect(Set(again.map(\.id)).count == again.count, "each unacked record exactly once")
        #expect(again.allSatisfy { $0.payload == payload(Int($0.offset), size: 100) })
        #expect(try await drain(second, topic: "r", partition: 1, group: "h").isEmpty)
        let next = try await second.produce(topic: "r", partition: 1, payloads: [[1]])
        #expect(next == ["1-100"])
        try await second.shutdown()
    }

    @Test("records beyond the memory tail (count or bytes) are read back from the segments", arguments: [(10, 1 << 20), (1000, 500)])
    func memoryTail(queueSize: Int, queueBytes: Int) async throws {
        let tmp = TempDir("broker")
        var config = BrokerConfig(dataDirectory: tmp.path)
        config.minFreeBytes = 0
        config.queueSize = queueSize
        config.queueBytes = queueBytes
        config.segmentBytes = 8192
        let broker = try await MessageBroker(config: config, logger: testLogger)
        for b in 0..<10 { _ = try await broker.produce(topic: "m", partition: 0, payloads: (0..<10).map { payload(b * 10 + $0, size: 100) }) }
        let got = try await drain(broker, topic: "m", partition: 0, group: "g")
        #expect(got.map(\.offset) == Array(0..<100))
        #expect(got.allSatisfy { $0.payload == payload(Int($0.offset), size: 100) })
        try await broker.shutdown()
    }

    @Test("acked segments are deleted; a torn tail is cut off on restart")
    func segmentsAndTornTail() async throws {
        let tmp = TempDir("broker")
        let dir = tmp.path
        var config = BrokerConfig(dataDirectory: dir)
        config.minFreeBytes = 0
        config.segmentBytes = 4096
        let broker = try await MessageBroker(config: config, logger: testLogger)
        var ids: [String] = []
        for b in 0..<20 { ids += try await broker.produce(topic: "s", partition: 0, payloads: (0..<10).map { payload(b * 10 + $0, size: 100) }) }
        let got = try await drain(broker, topic: "s", partition: 0, group: "g")
        #expect(got.count == 200)
        let before = await broker.topicsInfo()[0].partitions[0].segments
        _ = try await broker.ack(topic: "s", partition: 0, group: "g", ids: ids)
        let after = await broker.topicsInfo()[0].partitions[0]
        #expect(before > 2)
        #expect(after.segments == 1, "fully acked segments deleted")
        #expect(after.startOffset > 0)
        _ = try await broker.produce(topic: "s", partition: 0, payloads: [payload(1), payload(2)])
        try await broker.shutdown()
        // Tear the last record in half, as a crash mid-write would.
        let partDir = dir + "/topics/s/0"
        let last = try #require(FileManager.default.contentsOfDirectory(atPath: partDir).filter { $0.hasSuffix(".log") }.sorted().last)
        let handle = try #require(FileHandle(forUpdatingAtPath: partDir + "/" + last))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size - 10)
        try handle.close()
        let reopened = try await MessageBroker(config: config, logger: testLogger)
        let rest = try await drain(reopened, topic: "s", partition: 0, group: "g")
        #expect(rest.map(\.offset) == [200], "the torn record is gone, the good one stays")
        #expect(try await reopened.produce(topic: "s", partition: 0, payloads: [[9]]) == ["0-201"])
        try await reopened.shutdown()
    }
}

// MARK: Real process: kill -9

/// A `telemetry broker` child process.
final class BrokerProcess: Sendable {
    let child: ChildProcess
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    init(child: ChildProcess, port: Int) { self.child = child; self.port = port }

    static func start(dir: String, extra: [String] = []) async throws -> BrokerProcess {
        let child = try ChildProcess.start("broker", TestPaths.telemetry,
                                           ["broker", "--listen", "127.0.0.1:0", "--data-dir", dir, "--fsync", "always", "--min-free-bytes", "0", "--log-level", "warning"] + extra)
        do {
            return BrokerProcess(child: child, port: try await child.port(timeout: .seconds(20)))
        } catch {
            child.kill9()
            await child.wait()
            throw error
        }
    }

    func kill9() async {
        child.kill9()
        await child.wait()
    }

    /// SIGTERM, then the exit status.
    func terminate() async -> Int32 {
        child.terminate()
        return await child.wait()
    }
}

@Suite("Broker process restart", .enabled(if: TestPaths.exists(TestPaths.telemetry)), .serialized)
struct ProcessRestartTests {
    @Test("kill -9 with fsync=always, then SIGTERM: every acknowledged unacked record comes back exactly once, no acked one")
    func killAndTerminate() async throws {
        let tmp = TempDir("broker")
        let dir = tmp.path
        var broker = try await BrokerProcess.start(dir: dir)
        var ids: [String] = []
        for p in 0..<2 { ids += try await produceBatch(broker.url, topic: "k", partition: p, (0..<30).map { payload($0 + 100 * p) }) }
        var delivered: [String] = []
        for p in 0..<2 {
            let sse = SSEConnection.open(broker.url, topic: "k", partition: p, group: "g")
            delivered += await sse.waitFor(30).map(\.id)
            await sse.close()
        }
        #expect(Set(delivered) == Set(ids))
        var acked = Set<String>()
        for p in 0..<2 {
            let mine = ids.filter { $0.hasPrefix("\(p)-") }
            let toAck = mine.enumerated().filter { $0.offset % 2 == 0 || $0.offset < 10 }.map(\.element)
            let r = try await ack(broker.url, topic: "k", partition: p, group: "g", ids: toAck)
            #expect(r.status == 200)
            acked.formUnion(toAck)
        }
        await broker.kill9()

        broker = try await BrokerProcess.start(dir: dir)
        var again: [String] = []
        for p in 0..<2 {
            let sse = SSEConnection.open(broker.url, topic: "k", partition: p, group: "g")
            let expected = ids.filter { $0.hasPrefix("\(p)-") && !acked.contains($0) }.count
            _ = await sse.waitFor(expected)
            try await Task.sleep(for: .milliseconds(300))  // nothing more may arrive
            let got = sse.all
            await sse.close()
            again += got.map(\.id)
            #expect(got.allSatisfy { $0.data == payload(Int($0.id.split(separator: "-")[1])! + 100 * p) })
        }
        #expect(again.sorted() == ids.filter { !acked.contains($0) }.sorted())

        // Ack half of the rest, stop cleanly (SIGTERM → exit 0), and check once more.
        let half = Array(again.prefix(again.count / 2))
        for p in 0..<2 {
            let mine = half.filter { $0.hasPrefix("\(p)-") }
            if !mine.isEmpty { #expect(try await ack(broker.url, topic: "k", partition: p, group: "g", ids: mine).status == 200) }
        }
        acked.formUnion(half)
        #expect(await broker.terminate() == 0)
        broker = try await BrokerProcess.start(dir: dir)
        var third: [String] = []
        for p in 0..<2 {
            let sse = SSEConnection.open(broker.url, topic: "k", partition: p, group: "g")
            _ = await sse.waitFor(ids.filter { $0.hasPrefix("\(p)-") && !acked.contains($0) }.count)
            try await Task.sleep(for: .milliseconds(300))
            third += sse.all.map(\.id)
            await sse.close()
        }
        #expect(third.sorted() == ids.filter { !acked.contains($0) }.sorted())
        #expect(await broker.terminate() == 0)
    }
}
