import ArgumentParser
import AsyncHTTPClient
import Broker
import Foundation
import Logging
import Primitives

/// `telemetry proxy`: the consistent-hash proxy in front of the brokers. Every flag also reads
/// an environment variable (flag wins).
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "proxy", abstract: "Runs the consistent-hash proxy in front of the brokers.")
    static let env = ProcessInfo.processInfo.environment

    @Option(help: "Address to listen on, HOST:PORT (env LISTEN).")
    var listen: String = env["LISTEN"] ?? "127.0.0.1:8080"
    @Option(help: "Comma-separated broker URLs (env BROKERS); when empty, BROKER_SERVICE/BROKER_COUNT are used.")
    var brokers: String = env["BROKERS"] ?? ""
    @Option(name: .customLong("broker-service"), help: "StatefulSet/headless service name of the brokers (env BROKER_SERVICE).")
    var brokerService: String = env["BROKER_SERVICE"] ?? ""
    @Option(name: .customLong("broker-count"), help: "Number of broker replicas (env BROKER_COUNT).")
    var brokerCount: Int = Int(env["BROKER_COUNT"] ?? "") ?? 0
    @Option(name: .customLong("broker-namespace"), help: "Kubernetes namespace of the brokers (env BROKER_NAMESPACE).")
    var brokerNamespace: String = env["BROKER_NAMESPACE"] ?? "default"
    @Option(name: .customLong("broker-port"), help: "Port of the brokers (env BROKER_PORT).")
    var brokerPort: Int = Int(env["BROKER_PORT"] ?? "") ?? 9092
    @Option(name: .customLong("cluster-domain"), help: "Cluster DNS domain (env CLUSTER_DOMAIN).")
    var clusterDomain: String = env["CLUSTER_DOMAIN"] ?? "cluster.local"
    @OptionGroup var partitionOptions: PartitionOptions
    @Option(name: .customLong("virtual-nodes"), help: "Ring points per broker (env VIRTUAL_NODES).")
    var virtualNodes: Int = Int(env["VIRTUAL_NODES"] ?? "") ?? 150
    @Option(help: "Route to the next healthy broker when the owner is down: true/false (env FAILOVER).")
    var failover: Bool = ["1", "true", "yes"].contains((env["FAILOVER"] ?? "false").lowercased())
    @Option(name: .customLong("health-interval"), help: "Broker health check interval (env HEALTH_INTERVAL).")
    var healthInterval: String = env["HEALTH_INTERVAL"] ?? "2s"
    @OptionGroup var serviceToken: ServiceTokenOption
    @OptionGroup var insecureNoAuth: InsecureNoAuthOption
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body; larger gets 413 (env MAX_BODY_BYTES).")
    var maxBodyBytes: Int = Int(env["MAX_BODY_BYTES"] ?? "") ?? (8 << 20)
    @OptionGroup var httpTimeoutOptions: HTTPTimeoutOptions
    @OptionGroup var logging: LogLevelOption

    func run() async throws {
        var urls = brokers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if urls.isEmpty, !brokerService.isEmpty, brokerCount > 0 {
            urls = statefulSetBrokerURLs(service: brokerService, count: brokerCount, namespace: brokerNamespace, port: brokerPort, clusterDomain: clusterDomain)
        }
        guard !urls.isEmpty else { throw ValidationError("give --brokers URL,URL or --broker-service NAME with --broker-count N") }
        let address = try FlagValues.listenAddress(listen)
        guard virtualNodes > 0 else { throw ValidationError("--virtual-nodes must be at least 1") }
        let interval = try FlagValues.duration(healthInterval, flag: "--health-interval", positive: true)
        let brokerURLs = urls
        var config = ProxyConfig(brokers: brokerURLs)
        config.virtualNodes = virtualNodes
        config.httpTimeouts = try httpTimeoutOptions.timeouts()
        config.partitionsPerTopic = try partitionOptions.perTopic()
        config.topicPartitions = try partitionOptions.topicCounts()
        config.failover = failover
        config.healthInterval = interval
        config.serviceToken = serviceToken.token
        config.maxBodyBytes = maxBodyBytes
        let logger = try logging.logger(label: "telemetry.proxy")
        try insecureNoAuth.check(role: "proxy", host: address.host, credential: config.serviceToken,
                                 credentialHint: "--service-token or SERVICE_TOKEN", logger: logger)
        var clientConfig = HTTPClient.Configuration()
        clientConfig.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfig)
        let metrics = RoleMetrics()
        let proxy = ProxyServer(config: config, client: client, registry: metrics.registry, logger: logger)
        let app = proxy.application(host: address.host, port: address.port) { port in
            announce("proxy listening on \(address.host):\(port), \(brokerURLs.count) broker(s)")
        }
        try await RoleLifecycle.run([.init(service: app)], logger: logger) { try await client.shutdown() }
    }
}
