import AsyncHTTPClient
import Broker
import Foundation
import Ingest
import Logging
import NIOCore
import Prometheus
import Testing
import TSDB
import TelemetryTestSupport

/// A sink that takes its time: a slow TSDB.
struct SlowSink: SampleSink {
    let inner: any SampleSink
    let delay: Duration
    func write(documents: [[UInt8]]) async throws -> Int {
        try await Task.sleep(for: delay)
        return try await inner.write(documents: documents)
    }
}

func quietLogger(_ label: String) -> Logger {
    var l = Logger(label: label)
    l.logLevel = .error
    return l
}

/// The roles wired in one process (the embedded stack's shape), with a real broker and TSDB.
@Suite("Pipeline wired in process")
struct PipelineWiredTests {
    @Test(.timeLimit(.minutes(2)))
    func slowStorageBackPressuresTheStreamerWithoutLoss() async throws {
        let dirTemp = TempDir("e2e-backpressure")
        let dir = dirTemp.path
        var bc = BrokerConfig(dataDirectory: dir + "/broker")
        bc.minFreeBytes = 0
        bc.maxUnackedRecords = 6          // produce answers 503 past 6 unacked messages per partition
        bc.retryAfter = .milliseconds(50)
        let broker = try await MessageBroker(config: bc, logger: quietLogger("broker"))
        var options = TSDBOptions(directory: dir + "/tsdb")
        options.backgroundMaintenance = false
        let db = try await TSDB.open(options)
        let client = InProcessBrokerClient(broker)

        var cc = CollectorConfig()
        cc.pollWait = .milliseconds(50)
        cc.maxMessagesPerPoll = 2
        let collector = Collector(config: cc, client: client, sink: SlowSink(inner: TSDBSink(db), delay: .milliseconds(150)),
                                  logger: quietLogger("collector"))
        let collecting = Task { try await collector.run() }
        try await Task.sleep(for: .milliseconds(200))   // the group exists before the first produce

        var sc = StreamerConfig(inputs: [sampleCSV])
        sc.batchRows = 20                 // ≈ 31 messages per partition
        sc.messagesPerRequest = 2
        sc.retry = RetryPolicy(attempts: 1000, baseDelay: .milliseconds(10), maxDelay: .milliseconds(100))
        let streamer = Streamer(config: sc, client: client, logger: quietLogger("streamer"))
        let streaming = Task { try await streamer.run() }
        var maxLag = 0
        while !(await eventually(timeout: .milliseconds(50)) { streamer.stats.rowsPublished + streamer.stats.rowsDropped >= 2470 }) {
            for p in 0..<4 { maxLag = max(maxLag, await client.lag(topic: "telemetry", partition: p, group: "collectors") ?? 0) }
        }
        let stats = try await streaming.value
        #expect(stats.rowsDropped == 0)
        #expect(stats.publishRetries > 0, "the broker should have pushed back")
        #expect(maxLag > 0, "lag should grow while storage is slow")
        #expect(await eventually(timeout: .seconds(60)) { collector.stats.samplesWritten >= 2470 })
        collector.stop()
        try await collecting.value
        let all = try db.query(Query())
        #expect(all.series.reduce(0) { $0 + $1.timestamps.count } == 2470)
        try await db.close()
        try await broker.shutdown()
    }

    @Test(.timeLimit(.minutes(1)))
    func scrapeFeedsThePipelineAndEventsStreamIt() async throws {
        let dirTemp = TempDir("e2e-scrape")
        let dir = dirTemp.path
        // A fake dcgm-exporter: a role server whose /status serves exposition text.
        let exporterText = """
        # HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
        # TYPE DCGM_FI_DEV_GPU_UTIL gauge
        DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-aaaa",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="node-1",container="",namespace="",pod=""} 87
        DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-aaaa",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="node-1",container="",namespace="",pod=""} 61

        """
        let exporter = try await RoleHTTPServer.start(listen: "127.0.0.1:0", registry: PrometheusCollectorRegistry(),
                                                      status: { exporterText }, logger: quietLogger("exporter"))
        var bc = BrokerConfig(dataDirectory: dir + "/broker")
        bc.minFreeBytes = 0
        let broker = try await MessageBroker(config: bc, logger: quietLogger("broker"))
        let db = try await TSDB.open(TSDBOptions(directory: dir + "/tsdb"))
        let client = InProcessBrokerClient(broker)
        var sc = StreamerConfig()
        sc.scrapeURLs = ["http://127.0.0.1:\(exporter.port)/status"]
        sc.scrapeInterval = .milliseconds(300)
        let registry = PrometheusCollectorRegistry()
        let streamer = Streamer(config: sc, client: client, registry: registry, logger: quietLogger("streamer"))
        let server = try await RoleHTTPServer.start(listen: "127.0.0.1:0", registry: registry, events: streamer.events,
                                                    logger: quietLogger("streamer-http"))
        // Subscribe to the live view before publishing starts.
        // The shared client: one this test made would trap in its deinit if the test were
        // cancelled (time limit) before shutting it down, and take the whole run with it.
        let http = HTTPClient.shared
        let response = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/events"), timeout: .seconds(30))
        #expect(response.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
        #expect(await eventually(timeout: .seconds(5)) { streamer.events.subscriberCount == 1 })
        let streaming = Task { try await streamer.run() }
        let collector = Collector(config: CollectorConfig(), client: client, sink: TSDBSink(db), logger: quietLogger("collector"))
        let collecting = Task { try await collector.run() }

        var seen = ""
        for try await chunk in response.body {
            seen += String(buffer: chunk)
            if seen.contains("event: batch") && seen.contains("GPU-aaaa") { break }
        }
        #expect(seen.contains("\"metric\":\"DCGM_FI_DEV_GPU_UTIL\""))
        #expect(await eventually(timeout: .seconds(10)) { collector.stats.samplesWritten >= 4 })   // two scrapes
        streamer.stop()
        _ = try await streaming.value
        collector.stop()
        try await collecting.value
        await server.stop()
        await exporter.stop()

        let util = try db.query(Query(metric: "DCGM_FI_DEV_GPU_UTIL"))
        #expect(util.series.count == 1)
        let labels = util.series.first?.labels
        #expect(labels?["UUID"] == "GPU-aaaa")
        #expect(labels?["Hostname"] == "node-1")
        #expect(labels?["job"] == "dcgm-exporter")
        #expect(labels?["instance"] == "127.0.0.1:\(exporter.port)")
        #expect(util.series.first?.values.allSatisfy { $0 == 87 } == true)
        try await db.close()
        try await broker.shutdown()
    }
}
