import APIServer
import AsyncHTTPClient
import Foundation
import Ingest
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import TelemetryTestSupport
import TSDB

/// A real API server on 127.0.0.1 with an ephemeral port over a temporary database, stopped
/// (and its directory removed) when `body` returns or throws.
struct TestServer {
    let port: Int
    let db: TSDB
    var base: String { "http://127.0.0.1:\(port)" }

    static let samplePath = TestPaths.sampleCSV

    static func config(keys: [String] = ["test-key"]) -> APIServerConfig {
        var c = APIServerConfig()
        c.port = 0
        c.apiKeys = keys
        c.rateLimitPerSecond = 0
        c.accessLog = false
        return c
    }

    static func with(
        config: APIServerConfig = TestServer.config(),
        ingestSample: Bool = true,
        options configure: (inout TSDBOptions) -> Void = { _ in },
        _ body: (TestServer) async throws -> Void
    ) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("api-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = TSDBOptions(directory: dir)
        options.backgroundMaintenance = false
        configure(&options)
        let db = try await TSDB.open(options)
        do {
            if ingestSample { try await ingest(db) }
            var logger = Logger(label: "api-test")
            logger.logLevel = .warning
            let server = try await LoopbackServer.start(logger: logger) { onPort in
                try buildAPIApplication(db: db, config: config, registry: PrometheusCollectorRegistry(), logger: logger, onServerRunning: onPort)
            }
            do {
                try await body(TestServer(port: server.port, db: db))
            } catch {
                await server.stop()
                throw error
            }
            await server.stop()
        } catch {
            try? await db.close()
            throw error
        }
        try await db.close()
    }

    static func ingest(_ db: TSDB) async throws {
        var samples: [LabeledSample] = []
        _ = try DCGMCSVParser.parseFile(path: samplePath) { r in
            samples.append(LabeledSample(labels: r.labels, timestamp: r.timestamp, value: r.value))
        }
        try await db.append(samples)
    }

    struct Reply {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) }
        func object() throws -> [String: Any] {
            guard let o = try json() as? [String: Any] else { throw TestError("not a JSON object: \(text.prefix(200))") }
            return o
        }
        func array() throws -> [Any] {
            guard let a = try json() as? [Any] else { throw TestError("not a JSON array: \(text.prefix(200))") }
            return a
        }
        /// The error code of `{"error": {"code", "message"}}`.
        func errorCode() throws -> String? {
            ((try object())["error"] as? [String: Any])?["code"] as? String
        }
    }

    func request(
        _ path: String, method: HTTPMethod = .GET, headers: [(String, String)] = [("X-API-Key", "test-key")],
        body: [UInt8]? = nil, contentType: String? = nil
    ) async throws -> Reply {
        var req = HTTPClientRequest(url: base + path)
        req.method = method
        for (k, v) in headers { req.headers.add(name: k, value: v) }
        if let contentType { req.headers.add(name: "Content-Type", value: contentType) }
        if let body { req.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(req, timeout: Patience.replyTimeAmount)
        let buffer = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                     body: Array(buffer.readableBytesView))
    }

    func get(_ path: String, headers: [(String, String)] = [("X-API-Key", "test-key")]) async throws -> Reply {
        try await request(path, headers: headers)
    }

    func post(_ path: String, _ body: String, contentType: String = "application/json",
              headers: [(String, String)] = [("X-API-Key", "test-key")]) async throws -> Reply {
        try await request(path, method: .POST, headers: headers, body: Array(body.utf8), contentType: contentType)
    }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Percent-encodes a path segment or query value (everything but unreserved characters).
func encode(_ s: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
}
