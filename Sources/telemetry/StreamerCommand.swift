import ArgumentParser
import Foundation
import Ingest
import Logging

/// `telemetry streamer`: publishes DCGM CSV rows (files, directories) or scraped dcgm-exporter
/// metrics to a broker or the proxy. Every flag also reads an environment variable (flag wins).
struct StreamerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streamer",
        abstract: "Publishes DCGM CSV rows or scraped dcgm-exporter metrics to the broker.",
        discussion: """
        Examples:
          telemetry streamer data/dcgm.csv --broker http://127.0.0.1:9092
          telemetry streamer data/ --loop --rate 2000 --shard 0/2
          telemetry streamer --scrape http://gpu-node-1:9400/metrics --scrape-interval 15
        """)
    static let env = ProcessInfo.processInfo.environment

    @Argument(help: "CSV files or directories of *.csv (env STREAMER_INPUTS, comma-separated).")
    var inputs: [String] = (env["STREAMER_INPUTS"] ?? "").split(separator: ",").map(String.init)
    @Option(help: "Broker or proxy base URL (env BROKER_URL).")
    var broker: String = env["BROKER_URL"] ?? "http://127.0.0.1:9092"
    @Option(help: "Topic to publish to (env TOPIC).")
    var topic: String = env["TOPIC"] ?? "telemetry"
    @Option(help: "Partitions of the topic; 0 asks the broker (env PARTITIONS_PER_TOPIC).")
    var partitions: Int = Int(env["PARTITIONS_PER_TOPIC"] ?? "") ?? 0
    @Flag(help: "Replay the inputs forever (env STREAMER_LOOP=1).")
    var loop: Bool = ["1", "true", "yes"].contains(env["STREAMER_LOOP"]?.lowercased() ?? "")
    @OptionGroup var replay: ReplayOptions
    @Option(help: "Rows per broker message (env BATCH_SIZE).")
    var batch: Int = Int(env["BATCH_SIZE"] ?? "") ?? 500
    @Option(help: "Attempts per publish, the first included (env STREAMER_RETRIES).")
    var retries: Int = Int(env["STREAMER_RETRIES"] ?? "") ?? 3
    @Option(help: "Publish only shard i of N (split by GPU UUID), e.g. 0/2 (env STREAMER_SHARD).")
    var shard: String = env["STREAMER_SHARD"] ?? "0/1"
    @OptionGroup var scrapeOptions: ScrapeOptions
    @Option(name: .customLong("scrape-bearer-token-file"), help: "File holding a Bearer token sent with each scrape (kube-rbac-proxy); re-read when it changes (env SCRAPE_BEARER_TOKEN_FILE).")
    var scrapeBearerTokenFile: String = env["SCRAPE_BEARER_TOKEN_FILE"] ?? ""
    @Option(name: .customLong("scrape-ca-file"), help: "PEM CA certificates trusted for https:// scrape targets instead of the system store (env SCRAPE_CA_FILE).")
    var scrapeCAFile: String = env["SCRAPE_CA_FILE"] ?? ""
    @Option(help: "Metrics, /health and /events address, HOST:PORT; 'off' disables (env STREAMER_LISTEN).")
    var listen: String = env["STREAMER_LISTEN"] ?? "127.0.0.1:9101"
    @OptionGroup var serviceToken: ServiceTokenOption
    @OptionGroup var logging: LogLevelOption

    func makeConfig() throws -> StreamerConfig {
        var c = StreamerConfig(inputs: inputs)
        c.loop = loop
        if let mode = try replay.mode() { c.timestamps = mode }
        c.rate = replay.rowsPerSecond
        c.batchRows = batch
        c.topic = topic
        c.partitions = partitions > 0 ? partitions : nil
        c.retry = RetryPolicy(attempts: retries)
        c.shard = try Shard(parsing: shard)
        c.scrapeURLs = scrapeOptions.scrape
        c.scrapeInterval = scrapeOptions.interval
        c.scrapeBearerTokenFile = scrapeBearerTokenFile.isEmpty ? nil : scrapeBearerTokenFile
        c.scrapeCAFile = scrapeCAFile.isEmpty ? nil : scrapeCAFile
        try c.validate()
        return c
    }

    func run() async throws {
        let config: StreamerConfig
        do { config = try makeConfig() } catch let e as PipelineConfigError { throw ValidationError(e.description) }
        let logger = try logging.logger(label: "telemetry.streamer")
        let metrics = RoleMetrics()
        let client = HTTPBrokerClient(baseURL: broker, token: serviceToken.token, logger: logger)
        let streamer = Streamer(config: config, client: client, registry: metrics.registry, logger: logger)
        let server = try await metrics.serve(listen: listen, role: "streamer", events: streamer.events,
                                             status: { statusJSON(streamer.stats) }, logger: logger)
        let failure = await RoleLifecycle.runMain({ try await streamer.run() }, onShutdown: { streamer.stop() }, logger: logger) {
            await server?.stop()
            await client.close()
        }
        let s = streamer.stats
        announce("streamer: published \(s.rowsPublished) rows in \(s.batchesPublished) messages, dropped \(s.rowsDropped), retries \(s.publishRetries)")
        if let failure { throw failure }
        if s.rowsDropped > 0 { throw ExitCode(3) }
    }
}
