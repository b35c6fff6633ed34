import Foundation
import HTTPServing
import Hummingbird
import Ingest
import Logging
import NIOPosix
import Prometheus
import Synchronization
import TSDB

/// Whether the server may take traffic: `/ready` answers 503 until it is marked ready (for
/// example while the embedded stack is still replaying its WAL).
package final class APIReadiness: Sendable {
    private let state: Atomic<Bool>
    package init(ready: Bool = true) { state = Atomic(ready) }
    package var isReady: Bool { state.load(ordering: .acquiring) }
    package func set(_ ready: Bool) { state.store(ready, ordering: .releasing) }
}

/// What every handler shares: the database, the configuration, metrics and the logger.
struct APIHandlers: Sendable {
    let db: TSDB
    let config: APIServerConfig
    let metrics: APIMetrics
    let logger: Logger
    let readiness: APIReadiness
    let assets: StaticAssets
    /// The collector's write path: parses DCGM CSV in place and caches series by raw row
    /// bytes (about 1 µs a sample, against ~16 through `[LabeledSample]`).
    let csvSink: TSDBSink
    /// Line protocol's write path: parses in place and caches series by raw label bytes.
    let lineProtocol = LineProtocolBatchBuilder()
    /// JSON samples' and remote_write's write paths, the same way (each its own cache: the
    /// keys of one format mean nothing in another).
    let jsonSamples = JSONBatchBuilder()
    let remoteWriteBuilder = RemoteWriteBatchBuilder()
    /// Open live streams, bounded by ``APIServerConfig/maxStreamSubscribers``.
    let streams: StreamSlots

    var queryLimits: QueryLimits? { config.queryLimits }

    /// Runs CPU-heavy request work (a query and the page built from it) on ``QueryWorkers``.
    func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await QueryWorkers.pool.runIfActive(work)
    }
}

/// Threads for queries, one per core, served first come first served. A query of a day of
/// 1 s samples takes milliseconds of CPU; run on Swift's cooperative pool it would hold one
/// of its few threads, and every other request's next step (reading a body, writing a
/// response) would queue behind it in no particular order, which shows as a long latency
/// tail under load. Here queries queue in arrival order, and light work never waits on them.
enum QueryWorkers {
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(1, ProcessInfo.processInfo.activeProcessorCount))
        pool.start()
        return pool
    }()
}

/// Builds the API router: middleware (observability → CORS → 405 → auth → rate limit) and every
/// route group. `telemetry api` and the embedded `telemetry run` both serve this.
package func buildAPIRouter(
    db: TSDB,
    config: APIServerConfig,
    registry: PrometheusCollectorRegistry,
    logger: Logger,
    readiness: APIReadiness = APIReadiness()
) -> Router<APIRequestContext> {
    let metrics = APIMetrics(registry: registry)
    let handlers = APIHandlers(db: db, config: config, metrics: metrics, logger: logger, readiness: readiness,
                               assets: StaticAssets(logger: logger), csvSink: TSDBSink(db),
                               streams: StreamSlots(limit: config.maxStreamSubscribers))
    let router = Router(context: APIRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: ObservabilityMiddleware(metrics: metrics, logger: logger, accessLog: config.accessLog))
    router.add(middleware: ErrorDialectMiddleware())
    router.add(middleware: CORSPolicyMiddleware(origins: config.corsOrigins))
    router.add(middleware: MethodNotAllowedMiddleware())
    router.add(middleware: AuthMiddleware(config: config))
    if config.rateLimitPerSecond > 0 {
        router.add(middleware: RateLimitMiddleware(limiter: RateLimiter(rate: config.rateLimitPerSecond, burst: config.rateLimitBurst), metrics: metrics))
    }
    handlers.addHealthRoutes(to: router)
    handlers.addDocsRoutes(to: router)
    let v1 = router.group("api/v1")
    handlers.addInventoryRoutes(to: v1)
    handlers.addTelemetryRoutes(to: v1)
    handlers.addQueryRoutes(to: v1)
    handlers.addStreamRoutes(to: v1)
    handlers.addWriteRoutes(to: router)
    handlers.addRemoteWriteRoutes(to: router)
    handlers.addInfluxQueryRoutes(to: router)
    handlers.addGrafanaRoutes(to: router.group("grafana"))
    handlers.addPrometheusRoutes(to: router.group("prometheus/api/v1"))
    return router
}

/// Builds the API application over an open database.
///
/// ```swift
/// let app = try buildAPIApplication(db: db, config: config, registry: registry, logger: logger) { port in
///     print("listening on \(port)")
/// }
/// try await app.runService()
/// ```
/// - Throws: ``APIConfigError`` when the configuration is unsafe (no key and no
///   `insecureNoAuth`) or invalid.
package func buildAPIApplication(
    db: TSDB,
    config: APIServerConfig,
    registry: PrometheusCollectorRegistry,
    logger: Logger,
    readiness: APIReadiness = APIReadiness(),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    try config.validate()
    if config.apiKeys.isEmpty && config.insecureNoAuth {
        logger.warning("AUTHENTICATION IS DISABLED (--insecure-no-auth): anyone who can reach \(config.host):\(config.port) can read and write all telemetry")
    }
    let router = buildAPIRouter(db: db, config: config, registry: registry, logger: logger, readiness: readiness)
    return config.httpTimeouts.application(router: router, host: config.host, port: config.port, serverName: "telemetry-api",
                                           logger: logger, onServerRunning: onServerRunning)
}

/// A path parameter, percent-decoded (a UUID may carry any byte).
func pathParameter(_ context: APIRequestContext, _ name: String) throws(APIError) -> String {
    guard let raw = context.parameters.get(name) else { throw .badRequest("missing path parameter \(name)") }
    guard raw.contains("%") else { return raw }
    var out: [UInt8] = []
    var bytes = Array(raw.utf8)[...]
    while let c = bytes.popFirst() {
        if c == UInt8(ascii: "%"), bytes.count >= 2,
           let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
            out.append(v)
            bytes = bytes.dropFirst(2)
        } else if c == UInt8(ascii: "%") {
            throw .badRequest("malformed percent-encoding in the path")
        } else {
            out.append(c)
        }
    }
    guard let s = String(validating: out, as: UTF8.self) else { throw .badRequest("the path is not valid UTF-8") }
    return s
}
