import Logging
import ServiceLifecycle
import Synchronization

/// Runs a server (a Hummingbird application or any `Service` that reports its bound port) on
/// 127.0.0.1 with an ephemeral port, in a service group of its own without signal handlers,
/// and stops it gracefully.
///
/// ```swift
/// let server = try await LoopbackServer.start(logger: logger) { onPort in
///     brokerServer.application(host: "127.0.0.1", port: 0, onServerRunning: onPort)
/// }
/// defer { Task { await server.stop() } }   // or: await server.stop() on every path
/// ```
package final class LoopbackServer: Sendable {
    package let port: Int
    package var url: String { "http://127.0.0.1:\(port)" }
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// Builds the service with the callback it must call with its bound port, runs it and
    /// returns once the port is known; throws when the service ends before that.
    package static func start(
        logger: Logger,
        _ make: (@escaping @Sendable (Int) async -> Void) throws -> any Service
    ) async throws -> LoopbackServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let service = try make { port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            let outcome = await task.result
            if case .failure(let error) = outcome { throw error }
            throw TestSupportError("the server stopped before it reported its port")
        }
        return LoopbackServer(port: port, group: group, task: task)
    }

    /// Graceful shutdown (open streams end first); a server still running `grace` later is
    /// cancelled, so a test can never hang here.
    package func stop(grace: Duration = .seconds(10)) async {
        await group.triggerGracefulShutdown()
        let watchdog = Task {
            try await Task.sleep(for: grace)
            task.cancel()
        }
        _ = await task.result
        watchdog.cancel()
    }
}
