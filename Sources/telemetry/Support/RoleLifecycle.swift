import Logging
import ServiceLifecycle

/// How every long-running role runs: its services in one ServiceGroup that SIGTERM and SIGINT
/// stop gracefully (in reverse order of `services`), so a pod's termination or Ctrl-C drains
/// the role instead of killing it.
///
/// ```swift
/// try await RoleLifecycle.run([.init(service: app)], logger: logger)
/// ```
enum RoleLifecycle {
    /// Runs until a service ends (by default that ends the group) or a signal arrives.
    /// `maximumGracefulShutdownDuration` bounds the drain (open live streams would hold it).
    static func run(_ services: [ServiceGroupConfiguration.ServiceConfiguration], logger: Logger,
                    maximumGracefulShutdownDuration: Duration? = nil) async throws {
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        if let maximumGracefulShutdownDuration { configuration.maximumGracefulShutdownDuration = maximumGracefulShutdownDuration }
        try await ServiceGroup(configuration: configuration).run()
    }

    /// ``run(_:logger:maximumGracefulShutdownDuration:)``, then `cleanup` on every path (the
    /// broker closed, the client shut down, the database flushed); the run's error wins.
    static func run(_ services: [ServiceGroupConfiguration.ServiceConfiguration], logger: Logger,
                    finally cleanup: () async throws -> Void) async throws {
        do {
            try await run(services, logger: logger)
        } catch {
            try? await cleanup()
            throw error
        }
        try await cleanup()
    }

    /// A role's main loop that ends the group when it returns (the streamer's input done, the
    /// collector stopped).
    static func main(_ body: @escaping @Sendable () async throws -> Void,
                     onShutdown: @escaping @Sendable () -> Void) -> ServiceGroupConfiguration.ServiceConfiguration {
        .init(service: RoleService(body, onShutdown: onShutdown), successTerminationBehavior: .gracefullyShutdownGroup)
    }

    /// A pipeline role's main loop (``main(_:onShutdown:)``) run until it ends or a signal
    /// stops it, then `cleanup` (its status server stopped, its broker client closed) on every
    /// path. The loop's error is returned, not thrown, so the role still reports what it did.
    static func runMain(_ body: @escaping @Sendable () async throws -> Void, onShutdown: @escaping @Sendable () -> Void,
                        logger: Logger, finally cleanup: () async -> Void) async -> (any Error)? {
        var failure: (any Error)?
        do { try await run([main(body, onShutdown: onShutdown)], logger: logger) } catch { failure = error }
        await cleanup()
        return failure
    }
}

/// Runs a role's main loop as a ServiceLifecycle service; a graceful shutdown (SIGTERM, SIGINT)
/// calls `onShutdown`, which makes `body` return.
struct RoleService: Service {
    let body: @Sendable () async throws -> Void
    let onShutdown: @Sendable () -> Void

    init(_ body: @escaping @Sendable () async throws -> Void, onShutdown: @escaping @Sendable () -> Void) {
        self.body = body
        self.onShutdown = onShutdown
    }

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await body()
        } onGracefulShutdown: {
            onShutdown()
        }
    }
}
