import Foundation
import Testing
@testable import Ingest
import TelemetryTestSupport

@Suite("Streamer")
struct PipelineStreamerTests {
    func config(_ mutate: (inout StreamerConfig) -> Void = { _ in }) -> StreamerConfig {
        var c = StreamerConfig(inputs: [sampleCSVPath])
        c.retry = RetryPolicy(attempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
        mutate(&c)
        return c
    }

    @Test func publishesEveryRowKeyedByGPUInOrder() async throws {
        let broker = MemoryBroker(partitions: 4)
        let stats = try await Streamer(config: config(), client: broker).run()
        #expect(stats.rowsPublished == 2470)
        #expect(stats.rowsDropped == 0)
        let partitions = try broker.decodedRows()
        #expect(partitions.reduce(0) { $0 + $1.count } == 2470)
        let p = Partitioner(partitions: 4)
        let original = try sampleRecords()
        for (i, rows) in partitions.enumerated() {
            #expect(rows.allSatisfy { p.partition(uuid: $0.uuid) == i })
            // Per GPU, rows keep the file's order.
            for uuid in Set(rows.map(\.uuid)) {
                #expect(rows.filter { $0.uuid == uuid } == original.filter { $0.uuid == uuid })
            }
        }
        // Batches hold at most batchRows rows.
        #expect(broker.records(topic: "telemetry").joined().count >= 2470 / 500)
    }

    @Test func shardsSplitTheInput() async throws {
        let broker = MemoryBroker(partitions: 4)
        var total = 0
        for i in 0..<2 {
            let stats = try await Streamer(config: config { $0.shard = try! Shard(index: i, count: 2) }, client: broker).run()
            total += stats.rowsPublished
        }
        #expect(total == 2470)
        let rows = try broker.decodedRows().joined()
        #expect(Set(rows.map { "\($0.uuid)|\($0.metric)|\($0.timestamp)" }).count == 2470)
    }

    @Test func retriesTransientFailuresWithoutLoss() async throws {
        let broker = MemoryBroker(partitions: 4)
        broker.produceHook = { call in
            // The first attempt of every partition fails, and one retry too.
            if call <= 5 { throw BrokerClientError.retryable(status: 503, retryAfter: nil, message: "busy") }
        }
        let stats = try await Streamer(config: config { $0.batchRows = 100; $0.retry.attempts = 5 }, client: broker).run()
        #expect(stats.rowsPublished == 2470)
        #expect(stats.publishRetries > 0)
        #expect(stats.rowsDropped == 0)
    }

    @Test func countsDropsWhenTheBrokerStaysDown() async throws {
        let broker = MemoryBroker(partitions: 4)
        broker.produceHook = { _ in throw BrokerClientError.connection("refused") }
        let start = ContinuousClock.now
        let stats = try await Streamer(config: config(), client: broker).run()
        #expect(stats.rowsPublished == 0)
        #expect(stats.rowsDropped == 2470)
        #expect(stats.publishRetries > 0)
        #expect(ContinuousClock.now - start < .seconds(30))   // bounded retries, not a hang
    }

    @Test func stopNeverHangsOnADeadBroker() async throws {
        let broker = MemoryBroker(partitions: 4)
        broker.produceDelay = .seconds(60)   // a broker that never answers
        let streamer = Streamer(config: config {
            $0.loop = true
            $0.shutdownGrace = .milliseconds(200)
        }, client: broker)
        let task = Task { try await streamer.run() }
        #expect(await eventually { streamer.stats.rowsRead > 0 })
        try await Task.sleep(for: .milliseconds(100))
        let start = ContinuousClock.now
        streamer.stop()
        let stats = try await task.value
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(stats.rowsDropped > 0)
    }

    @Test func loopWithShiftBuildsHistory() async throws {
        let broker = MemoryBroker(partitions: 2)
        let streamer = Streamer(config: config { $0.loop = true; $0.partitions = 2 }, client: broker)
        let task = Task { try await streamer.run() }
        #expect(await eventually(timeout: .seconds(60)) { streamer.stats.passes >= 2 })
        streamer.stop()
        _ = try await task.value
        let rows = try broker.decodedRows().joined()
        let gpu = rows.filter { $0.uuid == "GPU-5fd4f087-86f3-7a43-b711-4771313afc50" && $0.metric == "DCGM_FI_DEV_GPU_UTIL" }
        let stamps = gpu.map(\.timestamp)
        #expect(Set(stamps).count == stamps.count)   // passes never overwrite each other
        #expect(stamps == stamps.sorted())
        #expect(stamps.first.map { abs($0 - wallClockNanos()) < 60 * 1_000_000_000 } == true)
    }

    @Test func rateThrottles() async throws {
        let broker = MemoryBroker(partitions: 4)
        let start = ContinuousClock.now
        let stats = try await Streamer(config: config { $0.rate = 5000 }, client: broker).run()
        let elapsed = ContinuousClock.now - start
        #expect(stats.rowsPublished == 2470)
        #expect(elapsed > .milliseconds(350))   // 2,470 rows at 5,000/s ≈ 0.5 s
    }

    @Test func rejectsBadConfiguration() async throws {
        let broker = MemoryBroker()
        await #expect(throws: PipelineConfigError.self) { try await Streamer(config: StreamerConfig(), client: broker).run() }
        await #expect(throws: PipelineConfigError.self) {
            try await Streamer(config: StreamerConfig(inputs: ["/nonexistent/x.csv"]), client: broker).run()
        }
    }
}
