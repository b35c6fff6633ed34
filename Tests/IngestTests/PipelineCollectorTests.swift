import Foundation
import Testing
@testable import Ingest
import TelemetryTestSupport

@Suite("Collector")
struct PipelineCollectorTests {
    func publish(_ broker: MemoryBroker) async throws {
        var c = StreamerConfig(inputs: [sampleCSVPath])
        c.batchRows = 100
        let stats = try await Streamer(config: c, client: broker).run()
        #expect(stats.rowsPublished == 2470)
    }

    /// Runs `collectors` until `broker` holds no unacked record of the topic, then stops them
    /// and waits for them to return.
    func runUntilAcked(_ broker: MemoryBroker, _ collectors: Collector...) async throws {
        let tasks = collectors.map { collector in Task { try await collector.run() } }
        #expect(await eventually { broker.unacked(topic: "telemetry") == 0 })
        for collector in collectors { collector.stop() }
        for task in tasks { _ = try await task.value }
    }

    func collectorConfig() -> CollectorConfig {
        var c = CollectorConfig()
        c.pollWait = .milliseconds(20)
        c.writeRetry = RetryPolicy(attempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
        return c
    }

    @Test func writesEverythingThenAcks() async throws {
        let broker = MemoryBroker(partitions: 4)
        try await publish(broker)
        let sink = MemorySink()
        let collector = Collector(config: collectorConfig(), client: broker, sink: sink)
        try await runUntilAcked(broker, collector)
        #expect(sink.records.count == 2470)
        #expect(Set(sink.records.map(\.uuid)).count == 247)
        let s = collector.stats
        #expect(s.samplesWritten == 2470)
        #expect(s.messagesAcked == s.messagesConsumed)
        #expect(s.messagesDeadLettered == 0)
    }

    @Test func membersSplitPartitions() async throws {
        let broker = MemoryBroker(partitions: 4)
        try await publish(broker)
        let sink = MemorySink()
        var a = collectorConfig(); a.partitions = [0, 1]
        var b = collectorConfig(); b.partitions = [2, 3]
        let ca = Collector(config: a, client: broker, sink: sink)
        let cb = Collector(config: b, client: broker, sink: sink)
        try await runUntilAcked(broker, ca, cb)
        #expect(sink.records.count == 2470)
        #expect(ca.stats.samplesWritten > 0 && cb.stats.samplesWritten > 0)
    }

    @Test func storageFailureIsRetriedNotAcked() async throws {
        let broker = MemoryBroker(partitions: 1)
        var c = StreamerConfig(inputs: [sampleCSVPath]); c.partitions = 1
        _ = try await Streamer(config: c, client: broker).run()
        let sink = MemorySink()
        sink.failuresLeft = 4   // more than one write's retries (3 attempts)
        var cc = collectorConfig()
        cc.maxMessagesPerPoll = 2
        let collector = Collector(config: cc, client: broker, sink: sink)
        let task = Task { try await collector.run() }
        // The first batch exhausts its retries and stays unacked (in flight) …
        #expect(await eventually { collector.stats.writeFailures >= 4 })
        try await Task.sleep(for: .milliseconds(100))
        #expect(broker.unacked(topic: "telemetry") > 0)
        // … until the broker's visibility timeout hands it out again.
        broker.expireInFlight()
        #expect(await eventually { broker.unacked(topic: "telemetry") == 0 })
        collector.stop()
        try await task.value
        #expect(Set(sink.records.map { "\($0.uuid)|\($0.metric)" }).count == 2470)
    }

    @Test func malformedMessagesAreDeadLetteredAndAcked() async throws {
        let broker = MemoryBroker(partitions: 1)
        let good = MessageCodec.encode(Array(try sampleRecords().prefix(10)))
        _ = try await broker.produce(topic: "telemetry", partition: 0, payloads: [good, Array("garbage\u{0}\n1,2".utf8), good])
        let sink = MemorySink()
        let collector = Collector(config: collectorConfig(), client: broker, sink: sink)
        try await runUntilAcked(broker, collector)
        #expect(collector.stats.messagesDeadLettered == 1)
        #expect(sink.records.count == 20)
        let dlq = broker.records(topic: "telemetry.dlq").joined()
        #expect(dlq.count == 1)
        #expect(dlq.first?.payload == Array("garbage\u{0}\n1,2".utf8))
    }

    /// A sink that, like the HTTP one, cannot tell which document of a batch is bad.
    struct OpaqueSink: SampleSink {
        let inner = MemorySink()
        func write(documents: [[UInt8]]) async throws -> Int {
            do { return try await inner.write(documents: documents) } catch SinkError.malformed {
                throw SinkError.malformed(document: nil, reason: "400 bad request")
            }
        }
    }

    @Test func malformedMessagesFoundWhenTheSinkCannotSayWhich() async throws {
        let broker = MemoryBroker(partitions: 1)
        let good = MessageCodec.encode(Array(try sampleRecords().prefix(10)))
        _ = try await broker.produce(topic: "telemetry", partition: 0, payloads: [good, Array("x,y\n1,2\n".utf8), good, Array("junk".utf8)])
        let sink = OpaqueSink()
        let collector = Collector(config: collectorConfig(), client: broker, sink: sink)
        try await runUntilAcked(broker, collector)
        #expect(collector.stats.messagesDeadLettered == 2)
        #expect(sink.inner.records.count == 20)
        #expect(broker.records(topic: "telemetry.dlq").joined().count == 2)
    }

    @Test func exportsMetricsByTheirNames() async throws {
        let broker = MemoryBroker(partitions: 2)
        var sc = StreamerConfig(inputs: [sampleCSVPath]); sc.partitions = 2
        let streamer = Streamer(config: sc, client: broker)
        try await streamer.run()
        let collector = Collector(config: collectorConfig(), client: broker, sink: MemorySink())
        let task = Task { try await collector.run() }
        #expect(await eventually { broker.unacked(topic: "telemetry") == 0 })
        try await Task.sleep(for: .milliseconds(1100))   // lag gauge refreshes each second
        collector.stop()
        try await task.value
        let s = streamer.registry.emitToString()
        for name in ["streamer_rows_published_total 2470", "streamer_batches_published_total", "streamer_rows_dropped_total 0",
                     "streamer_publish_retries_total 0", "streamer_publish_duration_seconds_bucket"] {
            #expect(s.contains(name), "missing \(name)")
        }
        let c = collector.registry.emitToString()
        for name in ["collector_messages_consumed_total", "collector_samples_written_total 2470", "collector_messages_acked_total",
                     "collector_messages_dead_lettered_total 0", "collector_lag{partition=\"0\"}", "collector_write_duration_seconds_bucket"] {
            #expect(c.contains(name), "missing \(name)")
        }
    }
}
