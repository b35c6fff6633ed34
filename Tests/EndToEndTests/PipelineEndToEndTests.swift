import APIServer
import AsyncHTTPClient
import Foundation
import Logging
import Prometheus
import TelemetryTestSupport
import Testing
import TSDB

/// The API server and its TSDB, in this process (so the test reads the database directly);
/// every other role is a real `telemetry` child process.
final class InProcessAPI: @unchecked Sendable {
    let db: TSDB
    private let server: LoopbackServer
    var port: Int { server.port }

    static func start(directory: String, serviceToken: String) async throws -> InProcessAPI {
        var options = TSDBOptions(directory: directory)
        options.backgroundMaintenance = false
        let db = try await TSDB.open(options)
        var config = APIServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        config.apiKeys = ["e2e-api-key"]
        config.serviceToken = serviceToken
        config.rateLimitPerSecond = 0
        config.accessLog = false
        var logger = Logger(label: "e2e.api")
        logger.logLevel = .warning
        do {
            let server = try await LoopbackServer.start(logger: logger) { onPort in
                try buildAPIApplication(db: db, config: config, registry: PrometheusCollectorRegistry(), logger: logger, onServerRunning: onPort)
            }
            return InProcessAPI(db: db, server: server)
        } catch {
            try? await db.close()
            throw error
        }
    }

    private init(db: TSDB, server: LoopbackServer) {
        self.db = db
        self.server = server
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func stop() async {
        await server.stop(grace: .seconds(2))
        try? await db.close()
    }

    /// (samples, GPUs, hosts, samples of the example GPU).
    func totals() throws -> (samples: Int, gpus: Int, hosts: Int, example: Int) {
        let all = try db.query(Query())
        let samples = all.series.reduce(0) { $0 + $1.timestamps.count }
        let gpus = Set(all.series.compactMap { $0.labels["UUID"] }).count
        let hosts = Set(all.series.compactMap { $0.labels["Hostname"] }).count
        let example = all.series.filter { $0.labels["UUID"] == exampleGPU }.reduce(0) { $0 + $1.timestamps.count }
        return (samples, gpus, hosts, example)
    }
}

@Suite("Pipeline end to end (real processes)", .serialized)
struct PipelineEndToEndTests {
    static let token = "e2e-service-token"

    /// Brokers, proxy, collectors and streamer as `telemetry` processes on loopback.
    struct Stack {
        let children = Children()
        var api: InProcessAPI!
        var brokers: [Child] = []
        var brokerPorts: [Int] = []
        var brokerDirs: [String] = []
        var proxyPort = 0
        var collectors: [Child] = []
        private let scratch = TempDir("e2e-pipeline")
        var root: String { scratch.path }
        var env: [String: String] { ["SERVICE_TOKEN": PipelineEndToEndTests.token] }
        var proxyURL: String { "http://127.0.0.1:\(proxyPort)" }

        mutating func startAll() async throws {
            api = try await InProcessAPI.start(directory: root + "/tsdb", serviceToken: PipelineEndToEndTests.token)
            for i in 0..<2 {
                let dir = root + "/broker\(i)"
                brokerDirs.append(dir)
                let b = try startBroker(i, port: 0)
                brokers.append(b)
                brokerPorts.append(try await b.port())
            }
            let brokerList = brokerPorts.map { "http://127.0.0.1:\($0)" }.joined(separator: ",")
            let proxy = try children.start("proxy", ["proxy", "--listen", "127.0.0.1:0", "--brokers", brokerList,
                                                     "--health-interval", "0.2s"], environment: env)
            proxyPort = try await proxy.port()
            for i in 0..<2 {
                let c = try startCollector(i)
                collectors.append(c)
                _ = try await c.port()
            }
        }

        func startBroker(_ i: Int, port: Int) throws -> Child {
            try children.start("broker\(i)", ["broker", "--listen", "127.0.0.1:\(port)", "--data-dir", brokerDirs[i],
                                              "--partitions", "4", "--visibility-timeout", "2s", "--min-free-bytes", "0",
                                              "--heartbeat", "1s"], environment: env)
        }

        func startCollector(_ i: Int) throws -> Child {
            try children.start("collector\(i)", ["collector", "--broker", proxyURL, "--api", api.url,
                                                 "--partitions", i == 0 ? "0,1" : "2,3", "--partition-count", "4",
                                                 "--listen", "127.0.0.1:0"], environment: env)
        }

        func startStreamer(rate: Int) throws -> Child {
            try children.start("streamer", ["streamer", sampleCSV, "--broker", proxyURL, "--timestamps", "original",
                                             "--rate", String(rate), "--batch", "50", "--retries", "40",
                                             "--partitions", "4", "--listen", "127.0.0.1:0"], environment: env)
        }

        /// Index of the broker the proxy routes partition 0 of the topic to.
        func ownerOfPartition0() async throws -> Int {
            let r = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: proxyURL + "/status?topic=telemetry&partitions=4"), timeout: Patience.replyTimeAmount)
            let body = String(buffer: try await r.body.collect(upTo: 1 << 20))
            let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            let routes = json?["routes"] as? [[String: Any]] ?? []
            let owner = routes.first { ($0["partition"] as? Int) == 0 }?["owner"] as? String ?? ""
            return brokerPorts.firstIndex { owner.hasSuffix(":\($0)") } ?? 0
        }

        func stop() async {
            await children.stopAll()
            await api?.stop()
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func exactTotalsThroughKillsAndRestarts() async throws {
        var stack = Stack()
        defer { stack.children.killAll() }
        do {
            try await stack.startAll()
            let streamer = try stack.startStreamer(rate: 500)   // ≈ 5 s of streaming
            _ = try await streamer.port()
            try await Task.sleep(for: .milliseconds(1200))
            // A collector dies without warning mid-stream; its in-flight messages come back after
            // the broker's visibility timeout, to its replacement.
            stack.collectors[0].kill9()
            await stack.collectors[0].wait()
            try await Task.sleep(for: .milliseconds(500))
            stack.collectors[0] = try stack.startCollector(0)
            _ = try await stack.collectors[0].port()
            // The broker that owns partition 0 dies and comes back on the same port and data directory.
            let victim = try await stack.ownerOfPartition0()
            stack.brokers[victim].kill9()
            await stack.brokers[victim].wait()
            try await Task.sleep(for: .milliseconds(1500))   // long enough for the proxy to see it down
            stack.brokers[victim] = try stack.startBroker(victim, port: stack.brokerPorts[victim])
            _ = try await stack.brokers[victim].port()

            let code = await streamer.wait(timeout: .seconds(90))
            #expect(code == 0, "streamer exit \(code)\n\(stack.children.logs)")
            #expect(streamer.log.contains("dropped 0"), "\(streamer.log.suffix(2000))")
            let api = stack.api!
            let done = await eventually(timeout: .seconds(60), every: .milliseconds(200)) {
                (try? api.totals().samples) ?? 0 >= 2470
            }
            #expect(done, "\(stack.children.logs)")
            // Let redeliveries of already-stored messages land too: still exact.
            try await Task.sleep(for: .seconds(3))
            let t = try api.totals()
            #expect(t.samples == 2470)
            #expect(t.gpus == 247)
            #expect(t.hosts == 31)
            #expect(t.example == 10)
            // The surviving collector reports the broker's lag (through the proxy), now zero.
            let metricsPort = try await stack.collectors[1].port()
            let r = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(metricsPort)/metrics"), timeout: .seconds(10))
            let metrics = String(buffer: try await r.body.collect(upTo: 1 << 20))
            #expect(metrics.contains("collector_lag{partition=\"2\"} 0"), "\(metrics)")
            #expect(metrics.contains("collector_samples_written_total"))
            if ProcessInfo.processInfo.environment["E2E_VERBOSE"] != nil { print(stack.children.logs) }
        } catch {
            Issue.record("\(error)\n\(stack.children.logs)")
        }
        await stack.stop()
    }
}
