import ArgumentParser
import Broker
import Foundation
import Logging
import Primitives

/// `telemetry broker`: one broker process. Every flag also reads an environment variable
/// (flag wins); defaults are those of `BrokerConfig`.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "broker", abstract: "Runs a broker: partitioned durable topics with consumer groups.")
    static let env = ProcessInfo.processInfo.environment

    @Option(help: "Address to listen on, HOST:PORT (env LISTEN; port 0 picks a free port).")
    var listen: String = env["LISTEN"] ?? "127.0.0.1:9092"
    @Option(name: .customLong("data-dir"), help: "Directory for segments and group state (env DATA_DIR).")
    var dataDir: String = env["DATA_DIR"] ?? "./data/broker"
    @OptionGroup var partitionOptions: PartitionOptions
    @Option(name: .customLong("queue-size"), help: "Recent records per partition kept in memory (env QUEUE_SIZE).")
    var queueSize: Int = Int(env["QUEUE_SIZE"] ?? "") ?? 2000
    @Option(name: .customLong("queue-bytes"), help: "Payload bytes per partition kept in memory (env QUEUE_BYTES).")
    var queueBytes: Int = Int(env["QUEUE_BYTES"] ?? "") ?? (64 << 20)
    @Option(name: .customLong("visibility-timeout"), help: "Redeliver unacked records after this: 30, 0.2, 200ms, 5m (env VISIBILITY_TIMEOUT).")
    var visibilityTimeout: String = env["VISIBILITY_TIMEOUT"] ?? "30s"
    @Option(name: .customLong("max-deliveries"), help: "Deliveries before a record is dead-lettered (env MAX_DELIVERIES).")
    var maxDeliveries: Int = Int(env["MAX_DELIVERIES"] ?? "") ?? 5
    @OptionGroup var fsync: FsyncOption
    @Option(name: .customLong("segment-bytes"), help: "Roll a segment at this size (env SEGMENT_BYTES).")
    var segmentBytes: Int = Int(env["SEGMENT_BYTES"] ?? "") ?? (64 << 20)
    @Option(help: "Keep fully acked segments at least this long: 0, 1h, ... (env RETENTION).")
    var retention: String = env["RETENTION"] ?? "0"
    @Option(name: .customLong("retention-bytes"), help: "Also delete acked segments while a partition is larger than this; 0 = age only (env RETENTION_BYTES).")
    var retentionBytes: Int = Int(env["RETENTION_BYTES"] ?? "") ?? 0
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body; larger gets 413 (env MAX_BODY_BYTES).")
    var maxBodyBytes: Int = Int(env["MAX_BODY_BYTES"] ?? "") ?? (8 << 20)
    @Option(name: .customLong("max-record-bytes"), help: "Largest single record (env MAX_RECORD_BYTES).")
    var maxRecordBytes: Int = Int(env["MAX_RECORD_BYTES"] ?? "") ?? (4 << 20)
    @Option(name: .customLong("max-unacked"), help: "503 on produce when the slowest group lags this many records; 0 = no limit (env MAX_UNACKED).")
    var maxUnacked: Int = Int(env["MAX_UNACKED"] ?? "") ?? 0
    @Option(name: .customLong("min-free-bytes"), help: "503 on produce below this much free disk (env MIN_FREE_BYTES).")
    var minFreeBytes: Int64 = Int64(env["MIN_FREE_BYTES"] ?? "") ?? (64 << 20)
    @OptionGroup var serviceToken: ServiceTokenOption
    @OptionGroup var insecureNoAuth: InsecureNoAuthOption
    @Option(help: "SSE heartbeat interval (env HEARTBEAT_INTERVAL).")
    var heartbeat: String = env["HEARTBEAT_INTERVAL"] ?? "5s"
    @OptionGroup var httpTimeoutOptions: HTTPTimeoutOptions
    @OptionGroup var logging: LogLevelOption

    func makeConfig() throws -> BrokerConfig {
        var c = BrokerConfig(dataDirectory: dataDir)
        c.httpTimeouts = try httpTimeoutOptions.timeouts()
        c.partitionsPerTopic = try partitionOptions.perTopic()
        c.topicPartitions = try partitionOptions.topicCounts()
        guard queueSize > 0 else { throw ValidationError("--queue-size must be at least 1") }
        c.queueSize = queueSize
        guard queueBytes > 0 else { throw ValidationError("--queue-bytes must be positive") }
        c.queueBytes = queueBytes
        c.visibilityTimeout = try FlagValues.duration(visibilityTimeout, flag: "--visibility-timeout", positive: true)
        guard maxDeliveries > 0 else { throw ValidationError("--max-deliveries must be at least 1") }
        c.maxDeliveries = maxDeliveries
        c.fsync = try fsync.policy()
        c.segmentBytes = segmentBytes
        c.retention = try FlagValues.duration(retention, flag: "--retention")
        c.retentionBytes = retentionBytes
        c.maxBodyBytes = maxBodyBytes
        c.maxRecordBytes = maxRecordBytes
        c.maxUnackedRecords = maxUnacked
        c.minFreeBytes = minFreeBytes
        c.serviceToken = serviceToken.token
        c.heartbeatInterval = try FlagValues.duration(heartbeat, flag: "--heartbeat", positive: true)
        return c
    }

    func run() async throws {
        let config = try makeConfig()
        let address = try FlagValues.listenAddress(listen)
        let logger = try logging.logger(label: "telemetry.broker")
        try insecureNoAuth.check(role: "broker", host: address.host, credential: config.serviceToken,
                                 credentialHint: "--service-token or SERVICE_TOKEN", logger: logger)
        let metrics = RoleMetrics()
        let broker = try await MessageBroker(config: config, logger: logger, registry: metrics.registry)
        let server = BrokerServer(broker: broker, registry: metrics.registry, logger: logger)
        let app = server.application(host: address.host, port: address.port) { port in
            announce("broker listening on \(address.host):\(port)")
        }
        try await RoleLifecycle.run([.init(service: app)], logger: logger) { try await broker.shutdown() }
    }
}
