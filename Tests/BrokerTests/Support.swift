import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing

@testable import Broker
import TelemetryTestSupport

let testLogger: Logger = {
    var l = Logger(label: "broker-tests")
    l.logLevel = .warning
    return l
}()

let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)

/// A real broker behind a real HTTP server on 127.0.0.1:<ephemeral>. Without a `dir` it
/// runs in a ``TempDir`` of its own, removed when the broker goes.
final class RunningBroker: Sendable {
    let broker: MessageBroker
    let server: LoopbackServer
    let dir: String
    /// The directory this broker made for itself (nil when the caller gave one).
    private let ownDir: TempDir?
    var port: Int { server.port }
    var url: String { server.url }

    init(broker: MessageBroker, server: LoopbackServer, dir: String, ownDir: TempDir? = nil) {
        self.broker = broker; self.server = server; self.dir = dir; self.ownDir = ownDir
    }

    static func start(dir: String? = nil, port: Int = 0, _ configure: (inout BrokerConfig) -> Void = { _ in }) async throws -> RunningBroker {
        let ownDir = dir == nil ? TempDir("broker") : nil
        let dir = dir ?? ownDir?.path ?? ""
        var config = BrokerConfig(dataDirectory: dir)
        config.minFreeBytes = 0
        configure(&config)
        let registry = PrometheusCollectorRegistry()
        let broker = try await MessageBroker(config: config, logger: testLogger, registry: registry)
        let server = BrokerServer(broker: broker, registry: registry, logger: testLogger)
        do {
            let running = try await LoopbackServer.start(logger: testLogger) { onPort in
                server.application(host: "127.0.0.1", port: port, onServerRunning: onPort)
            }
            return RunningBroker(broker: broker, server: running, dir: dir, ownDir: ownDir)
        } catch {
            try? await broker.shutdown()
            throw error
        }
    }

    /// Graceful stop: open SSE streams end, then the broker closes.
    func stop() async {
        await server.stop()
        try? await broker.shutdown()
    }
}

/// Runs `body` with a started broker and always stops it.
func withBroker<T>(dir: String? = nil, _ configure: (inout BrokerConfig) -> Void = { _ in },
                   _ body: (RunningBroker) async throws -> T) async throws -> T {
    let b = try await RunningBroker.start(dir: dir, configure)
    do {
        let r = try await body(b)
        await b.stop()
        return r
    } catch {
        await b.stop()
        throw error
    }
}

struct HTTPResult {
    let status: Int
    let headers: HTTPHeaders
    let body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    func json() -> [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
}

func http(_ method: HTTPMethod, _ url: String, body: [UInt8]? = nil, headers: [(String, String)] = []) async throws -> HTTPResult {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (k, v) in headers { request.headers.add(name: k, value: v) }
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    let response = try await httpClient.execute(request, timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 64 << 20)
    return HTTPResult(status: Int(response.status.code), headers: response.headers, body: Array(buffer: bytes))
}

func produceBatch(_ base: String, topic: String, partition: Int, _ payloads: [[UInt8]], token: String? = nil) async throws -> [String] {
    var headers = [("Content-Type", "application/x-telemetry-batch")]
    if let token { headers.append(("Authorization", "Bearer \(token)")) }
    let r = try await http(.POST, "\(base)/produce?topic=\(topic)&partition=\(partition)&batch=1", body: BatchFraming.encode(payloads), headers: headers)
    try #require(r.status == 200, "produce failed: \(r.status) \(r.text)")
    return r.json()["ids"] as? [String] ?? []
}

func ack(_ base: String, topic: String, partition: Int, group: String, ids: [String]) async throws -> HTTPResult {
    let body = try JSONSerialization.data(withJSONObject: ["ids": ids])
    return try await http(.POST, "\(base)/ack?topic=\(topic)&partition=\(partition)&group=\(group)", body: Array(body),
                          headers: [("Content-Type", "application/json")])
}

struct SSEEvent: Sendable, Equatable {
    let id: String
    let data: [UInt8]  // base64-decoded (or a binary frame's payload)
    let at: ContinuousClock.Instant
}

/// An open `/consume` stream whose events accumulate in the background.
final class SSEConnection: Sendable {
    let events = Mutex<[SSEEvent]>([])
    let comments = Mutex<Int>(0)
    let task = Mutex<Task<Void, Never>?>(nil)

    /// The Content-Type the stream answered with.
    let contentType = Mutex<String?>(nil)

    /// `binary`: asks for `encoding=binary` and reads record frames (heartbeat bytes count as
    /// comments); otherwise base64 SSE.
    static func open(_ base: String, topic: String, partition: Int, group: String, headers: [(String, String)] = [],
                     binary: Bool = false) -> SSEConnection {
        let c = SSEConnection()
        let t = Task {
            var request = HTTPClientRequest(url: "\(base)/consume?topic=\(topic)&partition=\(partition)&group=\(group)&encoding=\(binary ? "binary" : "base64")")
            for (k, v) in headers { request.headers.add(name: k, value: v) }
            do {
                let response = try await httpClient.execute(request, timeout: .seconds(600))
                c.contentType.withLock { $0 = response.headers.first(name: "Content-Type") }
                if binary {
                    var decoder = RecordFrameDecoder()
                    for try await chunk in response.body {
                        if chunk.readableBytesView.first == RecordFrames.heartbeat, decoder.isAtBoundary { c.comments.withLock { $0 += 1 } }
                        for f in try decoder.feed(chunk) {
                            c.events.withLock { $0.append(SSEEvent(id: f.id, data: f.payload, at: .now)) }
                        }
                    }
                    return
                }
                var pending: [UInt8] = []
                for try await chunk in response.body {
                    pending.append(contentsOf: chunk.readableBytesView)
                    while let end = SSEConnection.eventEnd(pending) {
                        let block = String(decoding: pending[..<end], as: UTF8.self)
                        pending.removeFirst(end + 2)
                        var id: String?, data = ""
                        for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                            if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
                            else if line.hasPrefix("data: ") { data += line.dropFirst(6) }
                            else if line.hasPrefix(":") { c.comments.withLock { $0 += 1 } }
                        }
                        if let id {
                            let bytes = Array(Data(base64Encoded: data) ?? Data())
                            c.events.withLock { $0.append(SSEEvent(id: id, data: bytes, at: .now)) }
                        }
                    }
                }
            } catch {}
        }
        c.task.withLock { $0 = t }
        return c
    }

    static func eventEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 2 else { return nil }
        for i in 0..<(b.count - 1) where b[i] == 10 && b[i + 1] == 10 { return i }
        return nil
    }

    /// Waits until at least `count` events arrived (or `timeout`), returns all so far.
    func waitFor(_ count: Int, timeout: Duration = Patience.reply) async -> [SSEEvent] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let e = events.withLock { $0 }
            if e.count >= count { return e }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return events.withLock { $0 }
    }

    var all: [SSEEvent] { events.withLock { $0 } }

    func close() async {
        let t = task.withLock { $0 }
        t?.cancel()
        await t?.value
    }
}

func payload(_ i: Int, size: Int = 32) -> [UInt8] {
    (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i &* 7) }
}

/// Stops what a test started, in reverse order, whether the test passed or threw.
final class Cleanup: Sendable {
    private let actions = Mutex<[@Sendable () async -> Void]>([])
    func add(_ action: @escaping @Sendable () async -> Void) { actions.withLock { $0.append(action) } }
    func run() async {
        let list = actions.withLock { a -> [@Sendable () async -> Void] in defer { a.removeAll() }; return a }
        for action in list.reversed() { await action() }
    }
}

func withCleanup<T>(_ body: (Cleanup) async throws -> T) async throws -> T {
    let cleanup = Cleanup()
    do {
        let r = try await body(cleanup)
        await cleanup.run()
        return r
    } catch {
        await cleanup.run()
        throw error
    }
}
