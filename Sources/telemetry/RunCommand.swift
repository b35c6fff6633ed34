import APIServer
import ArgumentParser
import Broker
import Foundation
import Ingest
import Logging
import Primitives
import ServiceLifecycle
import TSDB

/// `telemetry run`: the embedded default. Broker, collector, TSDB, API (with the built-in UI)
/// and a streamer replaying the bundled DCGM sample, all in one process and wired with
/// in-process calls. Data lives under `--data-dir`: `tsdb/` (the database, the same layout
/// `telemetry api --data-dir DIR/tsdb` serves), `broker/` (segments, group offsets) and
/// `api-key` (the generated key, mode 0600). Every flag also reads an environment variable.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Runs every role in one process (broker, collector, TSDB, API, streamer).",
        discussion: """
        With no source flag it replays the bundled DCGM sample forever, timestamps shifted to now.
        Examples:
          telemetry run                                   # API and UI on http://127.0.0.1:8080, data in ./data
          telemetry run --listen 0.0.0.0:9000 --data-dir /var/lib/telemetry
          telemetry run --csv my-dcgm.csv --once          # replay a file once, original timestamps
          telemetry run --scrape http://gpu-node-1:9400/metrics
          telemetry run --no-streamer                     # store only what is written to the API
        """)
    static let env = ProcessInfo.processInfo.environment
    static func truthy(_ name: String) -> Bool { ["1", "true", "yes", "on"].contains((env[name] ?? "").lowercased()) }

    @Option(help: "API and UI address, HOST:PORT; port 0 picks a free one (env LISTEN).")
    var listen: String = env["LISTEN"] ?? "127.0.0.1:8080"
    @Option(name: .customLong("data-dir"), help: "Data directory: tsdb/, broker/ and api-key inside (env DATA_DIR).")
    var dataDir: String = env["DATA_DIR"] ?? "./data"
    @Option(help: "DCGM CSV files or directories to replay instead of the bundled sample; repeatable (env SAMPLE_CSV, one path).")
    var csv: [String] = []
    @OptionGroup var scrapeOptions: ScrapeOptions
    @Flag(name: .customLong("no-streamer"), help: "Start no streamer: store only what is written to the API (env NO_STREAMER=1).")
    var noStreamer: Bool = truthy("NO_STREAMER")
    @Flag(help: "Replay the CSV once instead of forever (env STREAMER_ONCE=1).")
    var once: Bool = truthy("STREAMER_ONCE")
    @OptionGroup var replay: ReplayOptions
    @Option(help: "Partitions of the telemetry topic when it is created (env PARTITIONS_PER_TOPIC).")
    var partitions: Int = Int(env["PARTITIONS_PER_TOPIC"] ?? "") ?? 4
    @Option(name: .customLong("api-key"), help: "API keys, comma-separated; default: generated once and kept in <data-dir>/api-key (env API_KEY).")
    var apiKey: String = env["API_KEY"] ?? ""
    @OptionGroup var insecureNoAuth: InsecureNoAuthOption
    @Option(help: "Delete TSDB blocks whose newest sample is this far behind the wall clock, e.g. 7d; default keeps everything (env RETENTION).")
    var retention: String = env["RETENTION"] ?? ""
    @OptionGroup var engineLimits: EngineLimitOptions
    @OptionGroup var apiLimitOptions: APILimitOptions
    @OptionGroup var httpTimeoutOptions: HTTPTimeoutOptions
    /// The fsync policy of the WAL and the broker.
    @OptionGroup var fsync: FsyncOption
    @Flag(name: .customLong("access-log"), help: "Log every API request (env ACCESS_LOG=1).")
    var accessLog: Bool = truthy("ACCESS_LOG")
    @OptionGroup var logging: LogLevelOption

    /// Where the streamer reads from, decided once from the flags.
    enum Source {
        case none
        case files([String], loop: Bool)
        case scrape([String])
        case filesAndScrape([String], loop: Bool, urls: [String])
    }

    func source() throws -> Source {
        if noStreamer { return .none }
        let scrape = scrapeOptions.scrape
        if !scrape.isEmpty {
            return csv.isEmpty ? .scrape(scrape) : .filesAndScrape(csv, loop: !once, urls: scrape)
        }
        // No --csv: SAMPLE_CSV, then the bundled sample (see SampleLocator for the order).
        return .files(csv.isEmpty ? [try SampleLocator.locate(environment: Self.env)] : csv, loop: !once)
    }

    func streamerConfig(_ source: Source) throws -> StreamerConfig? {
        var c = StreamerConfig()
        switch source {
        case .none: return nil
        case .files(let files, let loop): c.inputs = files; c.loop = loop
        case .scrape(let urls): c.scrapeURLs = urls
        case .filesAndScrape(let files, let loop, let urls): c.inputs = files; c.loop = loop; c.scrapeURLs = urls
        }
        c.timestamps = try replay.mode() ?? (once ? .original : .shift)
        c.rate = replay.rowsPerSecond
        c.scrapeInterval = scrapeOptions.interval
        c.shutdownGrace = .seconds(3)
        do { try c.validate() } catch { throw ValidationError(error.description) }
        return c
    }

    func describe(_ source: Source) -> String {
        switch source {
        case .none: return "no streamer (--no-streamer): write to POST /api/v1/write or /telemetry"
        case .files(let f, let loop): return "replaying \(f.joined(separator: ", ")) \(loop ? "forever" : "once")"
        case .scrape(let u): return "scraping \(u.joined(separator: ", ")) every \(scrapeOptions.scrapeInterval) s"
        case .filesAndScrape(let f, _, let u): return "replaying \(f.joined(separator: ", ")) and scraping \(u.joined(separator: ", "))"
        }
    }

    func run() async throws {
        let logger = try logging.logger(label: "telemetry.run")
        let address = try FlagValues.listenAddress(listen)
        let policy = try fsync.policy()
        guard partitions > 0 else { throw ValidationError("--partitions must be at least 1") }
        var retentionNanos: Int64?
        if !retention.isEmpty {
            retentionNanos = try FlagValues.nanoseconds(retention, flag: "--retention", positive: true)
        }
        let source = try source()
        let streamerConfig = try streamerConfig(source)

        do {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        } catch {
            throw RunError("cannot create the data directory \(dataDir): \(error.localizedDescription)")
        }
        let lock = try DataDirLock.acquire(directory: dataDir)
        defer { withExtendedLifetime(lock) {} }
        let key: RunAPIKey.Resolved? = insecureNoAuth.enabled && apiKey.isEmpty
            ? nil : try RunAPIKey.resolve(given: APIKeyFile.parseList(apiKey), dataDir: dataDir)

        var api = APIServerConfig()
        api.host = address.host
        api.port = address.port
        api.apiKeys = key?.keys ?? []
        api.insecureNoAuth = key == nil
        api.accessLog = accessLog
        try apiLimitOptions.apply(to: &api)
        api.httpTimeouts = try httpTimeoutOptions.timeouts()
        do { try api.validate() } catch { throw ValidationError(error.description) }

        // One metrics backend for the process: the TSDB's swift-metrics, the broker's, the
        // pipeline's and the API's series all appear on the API's /metrics.
        let registry = RoleMetrics.processWide().registry

        var options = TSDBOptions(directory: (dataDir as NSString).appendingPathComponent("tsdb"))
        options.fsync = policy
        options.retention = retentionNanos
        try engineLimits.apply(to: &options)
        let db = try await TSDB.open(options, logger: logger)
        var brokerConfig = BrokerConfig(dataDirectory: (dataDir as NSString).appendingPathComponent("broker"))
        brokerConfig.fsync = policy
        brokerConfig.partitionsPerTopic = partitions
        let broker: MessageBroker
        do {
            broker = try await MessageBroker(config: brokerConfig, logger: logger, registry: registry)
        } catch {
            try? await db.close()
            throw error
        }
        let client = InProcessBrokerClient(broker)
        let collector = Collector(config: CollectorConfig(), client: client, sink: TSDBSink(db), registry: registry, logger: logger)
        let streamer = streamerConfig.map { Streamer(config: $0, client: client, registry: registry, logger: logger) }

        let readiness = APIReadiness(ready: false)
        // A wildcard bind is reached through loopback from this machine.
        let shownHost = ["0.0.0.0", "::", "[::]", ""].contains(address.host) ? "127.0.0.1" : address.host
        let banner = RunBanner(baseURL: "http://\(shownHost):\(address.port)", dataDir: dataDir, source: describe(source), key: key,
                               exampleUUID: exampleUUID(source, db))
        let app: any Service
        do {
            app = try buildAPIApplication(db: db, config: api, registry: registry, logger: logger, readiness: readiness) { port in
                var b = banner
                b.baseURL = "http://\(shownHost):\(port)"
                announce(b.text)
                announce("API listening on \(address.host):\(port)")
                readiness.set(true)
            }
        } catch {
            try? await broker.shutdown()
            try? await db.close()
            throw RunError("\(error)")
        }

        // Graceful shutdown runs in reverse order: the streamer stops reading and publishes what
        // it queued, then the collector writes and acks the batch in hand, then the API closes.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: app, serviceName: "api"),
            .init(service: RoleService({ try await collector.run() }, onShutdown: { collector.stop() }), serviceName: "collector"),
        ]
        if let streamer {
            // A streamer that finished its input (--once) leaves the rest running.
            services.append(.init(service: RoleService({ try await streamer.run() }, onShutdown: { streamer.stop() }),
                                  successTerminationBehavior: .ignore, serviceName: "streamer"))
        }
        var failure: (any Error)?
        do {
            // Open live streams (the UI's SSE) would hold the API's graceful shutdown forever.
            try await RoleLifecycle.run(services, logger: logger, maximumGracefulShutdownDuration: .seconds(10))
        } catch is CancellationError {
        } catch where "\(error)".contains("Address already in use") {
            failure = RunError("cannot listen on \(listen): the address is already in use; stop what uses it or give --listen HOST:PORT")
        } catch {
            failure = error
        }
        readiness.set(false)
        do { try await broker.shutdown() } catch { logger.error("broker shutdown failed", metadata: ["error": "\(error)"]); failure = failure ?? error }
        do { try await db.close() } catch { logger.error("TSDB close failed", metadata: ["error": "\(error)"]); failure = failure ?? error }
        let c = collector.stats
        var summary = "telemetry run stopped: collector wrote \(c.samplesWritten) samples from \(c.messagesConsumed) messages"
        if let s = streamer?.stats { summary += "; streamer published \(s.rowsPublished) rows, dropped \(s.rowsDropped)" }
        announce(summary + "; data flushed and closed in \(dataDir)")
        if let failure { throw failure }
    }

    func exampleUUID(_ source: Source, _ db: TSDB) -> String? {
        if let uuid = db.gpus().first?.uuid { return uuid }
        switch source {
        case .files(let files, _), .filesAndScrape(let files, _, _):
            return files.first.flatMap { FileManager.default.isReadableFile(atPath: $0) ? SampleLocator.firstUUID(of: $0) : nil }
        default:
            return nil
        }
    }
}
