import Broker
import Foundation
import Logging
import Testing
import TSDB
@testable import Ingest
import TelemetryTestSupport

/// Counts what a database holds from the sample file.
func sampleTotals(_ db: TSDB) throws -> (samples: Int, series: Int, gpus: Int, hosts: Int, exampleGPU: Int) {
    let all = try db.query(Query())
    let samples = all.series.reduce(0) { $0 + $1.timestamps.count }
    let uuids = Set(all.series.compactMap { $0.labels["UUID"] })
    let hosts = Set(all.series.compactMap { $0.labels["Hostname"] })
    let example = all.series.filter { $0.labels["UUID"] == "GPU-5fd4f087-86f3-7a43-b711-4771313afc50" }
        .reduce(0) { $0 + $1.timestamps.count }
    return (samples, all.series.count, uuids.count, hosts.count, example)
}

@Suite("Pipeline in process (MessageBroker + TSDB)")
struct PipelineInProcessTests {
    @Test func streamerBrokerCollectorTSDB() async throws {
        let dirTemp = TempDir("ingest-inproc")
        let dir = dirTemp.path
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        var bc = BrokerConfig(dataDirectory: dir + "/broker")
        bc.minFreeBytes = 0
        let broker = try await MessageBroker(config: bc, logger: logger)
        let db = try await TSDB.open(TSDBOptions(directory: dir + "/tsdb"))
        let client = InProcessBrokerClient(broker)
        var cc = CollectorConfig()
        cc.pollWait = .milliseconds(50)
        let collectors = [Collector(config: { var c = cc; c.partitions = [0, 1]; return c }(), client: client, sink: TSDBSink(db), logger: logger),
                          Collector(config: { var c = cc; c.partitions = [2, 3]; return c }(), client: client, sink: TSDBSink(db), logger: logger)]
        let tasks = collectors.map { c in Task { try await c.run() } }
        let stats = try await Streamer(config: StreamerConfig(inputs: [sampleCSVPath]), client: client, logger: logger).run()
        #expect(stats.rowsPublished == 2470)
        #expect(await eventually { collectors.reduce(0) { $0 + $1.stats.samplesWritten } >= 2470 })
        #expect(await eventually { collectors.allSatisfy { $0.stats.messagesAcked == $0.stats.messagesConsumed } })
        for c in collectors { c.stop() }
        for t in tasks { try await t.value }
        let totals = try sampleTotals(db)
        #expect(totals.samples == 2470)
        #expect(totals.gpus == 247)
        #expect(totals.hosts == 31)
        #expect(totals.exampleGPU == 10)
        #expect(await client.lag(topic: "telemetry", partition: 0, group: "collectors") == 0)
        try await db.close()
        try await broker.shutdown()
    }
}
