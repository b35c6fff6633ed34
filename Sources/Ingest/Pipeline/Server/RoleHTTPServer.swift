import Broker
import HTTPServing
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization

/// The small HTTP server of a pipeline role (streamer, collector): `GET /metrics` (Prometheus
/// text of the role's own registry), `GET /health`, `GET /status` (JSON from the role), and, when
/// given a broadcaster, `GET /events` (Server-Sent Events). ``start(listen:…)`` returns once the
/// port is bound; ``stop()`` ends open event streams first so shutdown never waits on a viewer.
package final class RoleHTTPServer: Sendable {
    package let host: String
    package let port: Int
    private let task: Task<Void, any Error>
    private let group: ServiceGroup
    private let events: EventBroadcaster?

    private init(host: String, port: Int, task: Task<Void, any Error>, group: ServiceGroup, events: EventBroadcaster?) {
        self.host = host
        self.port = port
        self.task = task
        self.group = group
        self.events = events
    }

    /// - Parameter listen: `host:port`, `:port` or `port`; port 0 picks a free one (see ``port``).
    package static func start(
        listen: String,
        registry: PrometheusCollectorRegistry,
        events: EventBroadcaster? = nil,
        status: (@Sendable () -> String)? = nil,
        logger: Logger
    ) async throws -> RoleHTTPServer {
        let (host, requestedPort) = try parseListen(listen)
        let router = Router()
        router.get("/health") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}")))
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        if let status {
            router.get("/status") { _, _ in
                Response(status: .ok, headers: [.contentType: "application/json"],
                         body: .init(byteBuffer: ByteBuffer(string: status())))
            }
        }
        if let events {
            router.get("/events") { _, _ in
                Response(status: .ok,
                         headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                         body: .init(asyncSequence: events.subscribe()))
            }
        }
        let bound = PortPromise()
        let app = HTTPTimeouts.defaults.application(router: router, host: host, port: requestedPort, logger: logger) { port in
            bound.fulfill(.success(port))
        }
        // A service group of its own, so stop() shuts the server down gracefully.
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            do {
                try await group.run()
            } catch {
                bound.fulfill(.failure(error))
                throw error
            }
            bound.fulfill(.failure(CancellationError()))
        }
        let port = try await bound.value
        return RoleHTTPServer(host: host, port: port, task: task, group: group, events: events)
    }

    package func stop() async {
        events?.finish()
        await group.triggerGracefulShutdown()
        // Connections that linger past a few seconds are cut.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(5))
            task.cancel()
        }
        _ = await task.result
        watchdog.cancel()
    }

    /// `host:port`, `:port` or `port` (host defaults to 127.0.0.1).
    package static func parseListen(_ text: String) throws(PipelineConfigError) -> (String, Int) {
        let hostPart: Substring
        let portPart: Substring
        if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        } else {
            hostPart = ""
            portPart = text[...]
        }
        guard let port = Int(portPart), (0...65535).contains(port) else {
            throw .invalid("listen address \"\(text)\": expected host:port, for example 127.0.0.1:9101")
        }
        return (hostPart.isEmpty ? "127.0.0.1" : String(hostPart), port)
    }
}

/// A one-shot value that several code paths may try to set; the first wins.
final class PortPromise: Sendable {
    private let state = Mutex<(result: Result<Int, any Error>?, waiter: CheckedContinuation<Int, any Error>?)>((nil, nil))

    func fulfill(_ result: Result<Int, any Error>) {
        let waiter: CheckedContinuation<Int, any Error>? = state.withLock { s in
            guard s.result == nil else { return nil }
            s.result = result
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(with: result)
    }

    var value: Int {
        get async throws {
            try await withCheckedThrowingContinuation { c in
                let ready: Result<Int, any Error>? = state.withLock { s in
                    if let r = s.result { return r }
                    s.waiter = c
                    return nil
                }
                if let ready { c.resume(with: ready) }
            }
        }
    }
}
