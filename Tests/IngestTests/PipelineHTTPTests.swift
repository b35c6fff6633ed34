import Broker
import Foundation
import Logging
import Prometheus
import Synchronization
import Testing
@testable import Ingest
import TelemetryTestSupport

/// A real broker (MessageBroker + its HTTP server) on 127.0.0.1:0, stopped by `stop()`.
final class LoopbackBroker: Sendable {
    let broker: MessageBroker
    let directory: String
    private let server: LoopbackServer

    var port: Int { server.port }
    var url: String { server.url }

    static func start(partitions: Int = 4, visibility: Duration = .seconds(30), directory: String? = nil) async throws -> LoopbackBroker {
        let dir = directory ?? temporaryDirectory("broker")
        var config = BrokerConfig(dataDirectory: dir)
        config.partitionsPerTopic = partitions
        config.visibilityTimeout = visibility
        config.minFreeBytes = 0
        config.heartbeatInterval = .milliseconds(500)
        var logger = Logger(label: "test.broker")
        logger.logLevel = .warning
        let broker = try await MessageBroker(config: config, logger: logger)
        let brokerServer = BrokerServer(broker: broker, registry: PrometheusCollectorRegistry(), logger: logger)
        do {
            let server = try await LoopbackServer.start(logger: logger) { onPort in
                brokerServer.application(host: "127.0.0.1", port: 0, onServerRunning: onPort)
            }
            return LoopbackBroker(broker: broker, directory: dir, server: server)
        } catch {
            try? await broker.shutdown()
            throw error
        }
    }

    private init(broker: MessageBroker, directory: String, server: LoopbackServer) {
        self.broker = broker
        self.directory = directory
        self.server = server
    }

    func stop() async {
        await server.stop(grace: .seconds(2))
        try? await broker.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

@Suite("Pipeline over HTTP")
struct PipelineHTTPTests {
    @Test func httpClientProducesPollsAndAcks() async throws {
        let server = try await LoopbackBroker.start(partitions: 2)
        let client = HTTPBrokerClient(baseURL: server.url)
        do {
            let ids = try await client.produce(topic: "t", partition: 1, payloads: [Array("a".utf8), Array("b\nc".utf8)])
            #expect(ids.count == 2)
            #expect(try await client.partitionCount(topic: "t") == 2)
            var got: [ConsumedMessage] = []
            let ok = await eventually(timeout: .seconds(10)) {
                got += (try? await client.poll(topic: "t", partition: 1, group: "g", maxRecords: 10, wait: .milliseconds(200))) ?? []
                return got.count >= 2
            }
            #expect(ok)
            #expect(got.map(\.payload) == [Array("a".utf8), Array("b\nc".utf8)])
            #expect(try await client.ack(topic: "t", partition: 1, group: "g", ids: got.map(\.id)) == 2)
            #expect(await client.lag(topic: "t", partition: 1, group: "g") == 0)
            // Acking again is harmless.
            _ = try await client.ack(topic: "t", partition: 1, group: "g", ids: got.map(\.id))
        } catch {
            Issue.record("\(error)")
        }
        await client.close()
        await server.stop()
    }

    /// The client asks for binary record frames; a broker that answers Server-Sent Events
    /// instead (one that predates `encoding=binary` sends raw SSE; base64 when asked) is read
    /// too, payload bytes intact (a raw SSE payload loses only carriage returns).
    @Test(arguments: ["binary", "base64", "raw"])
    func consumeStreamEncodings(encoding: String) async throws {
        let server = try await LoopbackBroker.start(partitions: 1)
        let client = HTTPBrokerClient(baseURL: server.url)
        let payloads = [Array("header\nrow 1\nrow 2\n".utf8), Array("x".utf8), (0..<3000).map { UInt8(truncatingIfNeeded: $0 % 10 + 48) }]
        let sub = SSESubscription(client: client, url: client.url("/consume", [("topic", "t"), ("partition", "0"), ("group", "g-\(encoding)"),
                                                                               ("encoding", encoding), ("max", "8")]),
                                  capacity: 8, logger: Logger(label: "test"))
        do {
            _ = try await client.produce(topic: "t", partition: 0, payloads: payloads)
            var got: [ConsumedMessage] = []
            let ok = await eventually(timeout: .seconds(10)) {
                got += (try? await sub.take(max: 10, wait: .milliseconds(200))) ?? []
                return got.count >= 3
            }
            #expect(ok)
            #expect(got.map(\.payload) == payloads)
            #expect(got.map(\.id) == ["0-0", "0-1", "0-2"])
        } catch {
            Issue.record("\(error)")
        }
        await sub.stop()
        await client.close()
        await server.stop()
    }

    @Test func streamerAndCollectorOverHTTP() async throws {
        let server = try await LoopbackBroker.start(partitions: 4)
        let producer = HTTPBrokerClient(baseURL: server.url)
        let consumer = HTTPBrokerClient(baseURL: server.url)
        let sink = MemorySink()
        var sc = StreamerConfig(inputs: [sampleCSVPath])
        sc.batchRows = 200
        let stats = try await Streamer(config: sc, client: producer).run()
        #expect(stats.rowsPublished == 2470)
        var cc = CollectorConfig()
        cc.pollWait = .milliseconds(100)
        let collector = Collector(config: cc, client: consumer, sink: sink)
        let task = Task { try await collector.run() }
        #expect(await eventually { sink.records.count >= 2470 })
        #expect(await eventually { collector.stats.messagesAcked == collector.stats.messagesConsumed })
        collector.stop()
        try await task.value
        #expect(Set(sink.records.map { "\($0.uuid)|\($0.metric)|\($0.timestamp)" }).count == 2470)
        await producer.close()
        await consumer.close()
        await server.stop()
    }

    @Test func brokerDownIsRetryableAndCounted() async throws {
        let client = HTTPBrokerClient(baseURL: "http://127.0.0.1:1", requestTimeout: .seconds(2))
        await #expect(throws: BrokerClientError.self) {
            _ = try await client.produce(topic: "t", partition: 0, payloads: [[1]])
        }
        do {
            _ = try await client.produce(topic: "t", partition: 0, payloads: [[1]])
        } catch let e as BrokerClientError {
            #expect(e.isRetryable)
        }
        var sc = StreamerConfig(inputs: [sampleCSVPath])
        sc.partitions = 4
        sc.retry = RetryPolicy(attempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
        let start = ContinuousClock.now
        let stats = try await Streamer(config: sc, client: client).run()
        #expect(stats.rowsDropped == 2470)
        #expect(ContinuousClock.now - start < .seconds(20))
        await client.close()
    }

    @Test func scrapeConverterMatchesCSVLabels() throws {
        let text = """
        # HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
        # TYPE DCGM_FI_DEV_GPU_UTIL gauge
        DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-5fd4f087-86f3-7a43-b711-4771313afc50",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="mtv5-dgx1-hgpu-031",DCGM_FI_DRIVER_VERSION="535.129.03",container="",namespace="",pod=""} 42
        DCGM_FI_DEV_POWER_USAGE{gpu="1",UUID="GPU-x",device="nvidia1",modelName="H100",Hostname="h",container="c",namespace="ns",pod="p"} 301.5 1752871354000
        go_goroutines 12
        """
        let (samples, problems) = PrometheusText.parse(Array(text.utf8))
        #expect(problems.isEmpty)
        #expect(samples.count == 3)
        let conv = ScrapeConverter(instance: "mtv5-dgx1-hgpu-031:9400", job: "dgx_dcgm_exporter")
        let (records, skipped) = try conv.records(from: samples, scrapeTime: 1_752_871_400_000_000_000)
        // go_goroutines has no GPU UUID: kept as a series of no GPU, as Prometheus keeps it.
        #expect(skipped == 0)
        #expect(records.count == 3)
        #expect(records[2].metric == "go_goroutines" && records[2].uuid == "" && records[2].labels["UUID"] == nil)
        let r = records[0]
        #expect(r.metric == "DCGM_FI_DEV_GPU_UTIL")
        #expect(r.value == 42)
        #expect(r.timestamp == 1_752_871_400_000_000_000)
        #expect(r.labels["Hostname"] == "mtv5-dgx1-hgpu-031")
        #expect(r.labels["UUID"] == "GPU-5fd4f087-86f3-7a43-b711-4771313afc50")
        #expect(r.labels["namespace"] == nil)
        // Same series identity as the CSV export's row for this GPU and metric.
        let csv = try sampleRecords().first { $0.uuid == r.uuid && $0.metric == r.metric }
        #expect(csv?.labels == r.labels)
        #expect(records[1].timestamp == 1_752_871_354_000_000_000)
        #expect(records[1].labels["namespace"] == "ns")
    }

    @Test func prometheusTextEdgeCases() {
        let text = "a{l=\"x\\\"y\\\\z\\n\"} NaN\nb +Inf\n c  -1.5e3  17 \nbad{l=\"x} 1\nd{l=\"1\",} 2\n\n# c\n"
        let (s, problems) = PrometheusText.parse(Array(text.utf8))
        #expect(s.map(\.name) == ["a", "b", "c", "d"])
        #expect(s[0]["l"] == "x\"y\\z\n")
        #expect(s[0].value.isNaN)
        #expect(s[1].value == .infinity)
        #expect(s[2].value == -1500 && s[2].timestampMillis == 17)
        #expect(problems.count == 1 && problems[0].line == 4)
    }
}
