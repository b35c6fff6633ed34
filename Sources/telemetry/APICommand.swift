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
    @Option(help: "Most series (or groups) one query may return; aggregations over more run (env QUERY_MAX_SERIES; default 1000000).")
    var maxSeries: Int?
    @Option(help: "Most samples one query may decode; chunks answered from summaries are free (env QUERY_MAX_SAMPLES; default 1000000000).")
    var maxSamples: Int?
    @Option(help: "Most bytes one query's answer may take in memory (env QUERY_MAX_RESULT_BYTES; default 1073741824).")
    var maxResultBytes: Int?
    @OptionGroup var fsync: FsyncOption
    @Option(help: "Longest a query may run before it stops with 503, e.g. 30s; off disables (env QUERY_TIMEOUT; default 30s).")
    var queryTimeout: String?
    @Option(help: "Refuse samples more than this far ahead of the clock, e.g. 10m; off accepts any (env MAX_FUTURE; default 10m).")
    var maxFuture: String?
    @OptionGroup var seriesLimitOptions: SeriesLimitOptions
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
        if let v = try number(rateLimit, env["RATE_LIMIT"], "--rate-limit") { config.rateLimitPerSecond = v }
        if let v = try number(rateLimitBurst, env["RATE_LIMIT_BURST"], "--rate-limit-burst") { config.rateLimitBurst = v }
        config.corsOrigins = APIKeyFile.parseList(corsOrigins ?? env["CORS_ORIGINS"] ?? "")
        if let v = try integer(maxBodyBytes, env["MAX_BODY_BYTES"], "--max-body-bytes") { config.maxBodyBytes = v }
        var limits = QueryLimits()
        if let v = try integer(maxSeries, env["QUERY_MAX_SERIES"], "--max-series") { limits.maxSeries = v }
        if let v = try integer(maxSamples, env["QUERY_MAX_SAMPLES"], "--max-samples") { limits.maxSamples = v }
        if let v = try integer(maxResultBytes, env["QUERY_MAX_RESULT_BYTES"], "--max-result-bytes") { limits.maxResultBytes = v }
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
        options.queryTimeout = try EngineLimits.queryTimeout(queryTimeout)
        options.maxFuture = try EngineLimits.maxFuture(maxFuture)
        options.seriesLimits = try seriesLimitOptions.seriesLimits()

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

    func number(_ flag: Double?, _ envValue: String?, _ name: String) throws -> Double? {
        if let flag { return flag }
        guard let envValue, !envValue.isEmpty else { return nil }
        guard let v = Double(envValue) else { throw ValidationError("\(name) (environment) \"\(envValue)\" is not a number") }
        return v
    }

    func integer(_ flag: Int?, _ envValue: String?, _ name: String) throws -> Int? {
        if let flag { return flag }
        guard let envValue, !envValue.isEmpty else { return nil }
        guard let v = Int(envValue) else { throw ValidationError("\(name) (environment) \"\(envValue)\" is not an integer") }
        return v
    }
}
