import APIServer
import ArgumentParser
import Foundation
import Logging
import Primitives
import TSDB

/// `telemetry api`: the REST API, the InfluxDB-compatible writes and the Grafana JSON
/// datasource over one data directory. Every flag can also come from the environment
/// variable named in its help; a flag wins over the variable.
struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "api", abstract: "Runs the REST API and Grafana datasource over a data directory.")

    @Option(help: "Address to listen on, HOST:PORT (env LISTEN; default 127.0.0.1:8080).")
    var listen: String?
    @Option(help: "Data directory of the TSDB (env DATA_DIR; default ./data).")
    var dataDir: String?
    @Option(help: "API keys, comma-separated for rotation (env API_KEY).")
    var apiKey: String?
    @Option(help: "File with API keys, one per line or comma-separated (env API_KEY_FILE).")
    var apiKeyFile: String?
    @OptionGroup var serviceToken: ServiceTokenOption
    @OptionGroup var insecureNoAuth: InsecureNoAuthOption
    @Option(help: "Requests per second per key, token bucket; 0 disables (env RATE_LIMIT; default 200).")
    var rateLimit: Double?
    @Option(help: "Token bucket burst per key (env RATE_LIMIT_BURST; default 400).")
    var rateLimitBurst: Double?
    @Option(help: "CORS origins, comma-separated, or * (env CORS_ORIGINS; default none).")
    var corsOrigins: String?
    @Option(help: "Largest request body in bytes (env MAX_BODY_BYTES; default 67108864).")
    var maxBodyBytes: Int?
    @OptionGroup var queryLimitOptions: QueryLimitOptions
    @OptionGroup var fsync: FsyncOption
    @OptionGroup var engineLimits: EngineLimitOptions
    @OptionGroup var apiLimitOptions: APILimitOptions
    @OptionGroup var httpTimeoutOptions: HTTPTimeoutOptions
    @OptionGroup var logging: LogLevelOption
    @Flag(help: "Do not write a log line per request (env ACCESS_LOG=0).")
    var noAccessLog = false

    func run() async throws {
        let env = ProcessInfo.processInfo.environment

        let logger = try logging.logger(label: "telemetry.api")

        var config = APIServerConfig()
        let address = listen ?? env["LISTEN"] ?? "127.0.0.1:8080"
        let listenAddress = try FlagValues.listenAddress(address)
        config.host = listenAddress.host
        config.port = listenAddress.port
        var keys = APIKeyFile.parseList(apiKey ?? env["API_KEY"] ?? "")
        if let file = apiKeyFile ?? env["API_KEY_FILE"], !file.isEmpty {
            do { keys += try APIKeyFile.read(file) } catch { throw ValidationError(error.description) }
        }
        config.apiKeys = keys
        config.serviceToken = serviceToken.token
        config.insecureNoAuth = insecureNoAuth.enabled
        if let v = try Env.number(rateLimit, "RATE_LIMIT", flag: "--rate-limit") { config.rateLimitPerSecond = v }
        if let v = try Env.number(rateLimitBurst, "RATE_LIMIT_BURST", flag: "--rate-limit-burst") { config.rateLimitBurst = v }
        config.corsOrigins = APIKeyFile.parseList(corsOrigins ?? env["CORS_ORIGINS"] ?? "")
        if let v = try Env.integer(maxBodyBytes, "MAX_BODY_BYTES", flag: "--max-body-bytes") { config.maxBodyBytes = v }
        let limits = try queryLimitOptions.queryLimits()
        config.queryLimits = limits
        config.accessLog = !(noAccessLog || env["ACCESS_LOG"] == "0" || env["ACCESS_LOG"]?.lowercased() == "false")
        try apiLimitOptions.apply(to: &config)
        config.httpTimeouts = try httpTimeoutOptions.timeouts()
        do { try config.validate() } catch { throw ValidationError(error.description) }
        // The API is stricter than this rule (no key refuses even on loopback, in validate());
        // the shared check keeps the roles' refusal and warning text one.
        try ListenAuth.check(role: "API", host: config.host, credential: config.apiKeys.first,
                             credentialHint: "API_KEY or API_KEY_FILE", insecureNoAuth: config.insecureNoAuth)

        var options = TSDBOptions(directory: dataDir ?? env["DATA_DIR"] ?? "./data")
        options.fsync = try fsync.policy()
        options.limits = limits
        try engineLimits.apply(to: &options)

        // The TSDB's swift-metrics land in the same registry the API serves at /metrics.
        let registry = RoleMetrics.processWide().registry

        let db = try await TSDB.open(options, logger: logger)
        let announce = logger
        let host = config.host
        let directory = options.directory
        let app = try buildAPIApplication(db: db, config: config, registry: registry, logger: logger) { port in
            announce.info("API listening", metadata: ["address": .string("\(host):\(port)"), "data_dir": .string(directory)])
        }
        try await RoleLifecycle.run([.init(service: app)], logger: logger) { try await db.close() }
        logger.info("API stopped; data flushed and closed")
    }
}
