import ArgumentParser
import Foundation
import Ingest
import Logging
import Primitives
import TSDB

/// `telemetry collector`: consumes the broker's partitions as a consumer-group member and writes
/// to the TSDB — over HTTP to the API server's internal write endpoint (`--api`), or into a
/// database directory it opens itself (`--data-dir`). Every flag also reads an environment variable.
struct CollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collector",
        abstract: "Consumes from the broker and writes to the TSDB.",
        discussion: """
        Examples:
          telemetry collector --broker http://127.0.0.1:9092 --api http://127.0.0.1:8080 --partitions 0,1
          telemetry collector --broker http://127.0.0.1:9092 --data-dir ./data/tsdb
        """)
    static let env = ProcessInfo.processInfo.environment

    @Option(help: "Broker or proxy base URL (env BROKER_URL).")
    var broker: String = env["BROKER_URL"] ?? "http://127.0.0.1:9092"
    @Option(help: "Topic to consume (env TOPIC).")
    var topic: String = env["TOPIC"] ?? "telemetry"
    @Option(help: "Consumer group (env CONSUMER_GROUP).")
    var group: String = env["CONSUMER_GROUP"] ?? "collectors"
    @Option(help: "Partitions to consume, e.g. 0,1; default all (env COLLECTOR_PARTITIONS).")
    var partitions: String = env["COLLECTOR_PARTITIONS"] ?? ""
    @Option(name: .customLong("partition-count"), help: "Partitions of the topic; 0 asks the broker (env PARTITIONS_PER_TOPIC).")
    var partitionCount: Int = Int(env["PARTITIONS_PER_TOPIC"] ?? "") ?? 0
    @Option(help: "API server base URL for the internal write endpoint (env API_URL).")
    var api: String = env["API_URL"] ?? ""
    @Option(name: .customLong("data-dir"), help: "Write into this TSDB directory instead of the API (env TSDB_DATA_DIR).")
    var dataDir: String = env["TSDB_DATA_DIR"] ?? ""
    /// The fsync policy of --data-dir.
    @OptionGroup var fsync: FsyncOption
    @Option(name: .customLong("max-messages"), help: "Messages taken per poll of a partition (env COLLECTOR_MAX_MESSAGES).")
    var maxMessages: Int = Int(env["COLLECTOR_MAX_MESSAGES"] ?? "") ?? 32
    @Option(name: .customLong("dead-letter-topic"), help: "Topic for malformed messages; default <topic>.dlq (env DEAD_LETTER_TOPIC).")
    var deadLetterTopic: String = env["DEAD_LETTER_TOPIC"] ?? ""
    @Option(help: "Metrics and /health address, HOST:PORT; 'off' disables (env COLLECTOR_LISTEN).")
    var listen: String = env["COLLECTOR_LISTEN"] ?? "127.0.0.1:9102"
    @OptionGroup var serviceToken: ServiceTokenOption
    @OptionGroup var logging: LogLevelOption
    /// Bounds on new series, used with --data-dir (with --api the API server applies its own).
    @OptionGroup var seriesLimitOptions: SeriesLimitOptions

    func makeConfig() throws -> CollectorConfig {
        var c = CollectorConfig()
        c.topic = topic
        c.group = group
        if !partitions.isEmpty {
            let list = partitions.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard list.allSatisfy({ $0 != nil && $0! >= 0 }) else { throw ValidationError("--partitions must look like 0,1,2") }
            c.partitions = list.compactMap { $0 }
        }
        c.partitionCount = partitionCount > 0 ? partitionCount : nil
        guard maxMessages > 0 else { throw ValidationError("--max-messages must be at least 1") }
        c.maxMessagesPerPoll = maxMessages
        c.deadLetterTopic = deadLetterTopic.isEmpty ? nil : deadLetterTopic
        return c
    }

    func run() async throws {
        let config = try makeConfig()
        guard api.isEmpty != dataDir.isEmpty else {
            throw ValidationError("give exactly one of --api URL (the API server's internal write endpoint) or --data-dir DIR")
        }
        let logger = try logging.logger(label: "telemetry.collector")
        let token = serviceToken.token
        let metrics = RoleMetrics()
        let sink: any SampleSink
        var db: TSDB?
        if !dataDir.isEmpty {
            var options = TSDBOptions(directory: dataDir)
            options.fsync = try fsync.policy()
            options.seriesLimits = try seriesLimitOptions.seriesLimits()
            let opened = try await TSDB.open(options, logger: logger)
            db = opened
            sink = TSDBSink(opened)
        } else {
            sink = HTTPWriteSink(baseURL: api, token: token)
        }
        let client = HTTPBrokerClient(baseURL: broker, token: token, logger: logger)
        let collector = Collector(config: config, client: client, sink: sink, registry: metrics.registry, logger: logger)
        let server = try await metrics.serve(listen: listen, role: "collector", status: { statusJSON(collector.stats) }, logger: logger)
        let failure = await RoleLifecycle.runMain({ try await collector.run() }, onShutdown: { collector.stop() }, logger: logger) {
            await server?.stop()
            await client.close()
        }
        try await db?.close()
        let s = collector.stats
        announce("collector: consumed \(s.messagesConsumed) messages, wrote \(s.samplesWritten) samples, acked \(s.messagesAcked), dead-lettered \(s.messagesDeadLettered)")
        if let failure { throw failure }
    }
}
