import Hummingbird
import Logging
import ServiceLifecycle

extension HTTPTimeouts {
    /// A role's Hummingbird application on `host:port`, served with these timeouts: the one
    /// way the API, the broker, the proxy and the pipeline roles' status servers are built.
    /// Port 0 picks a free port; the bound one is passed to `onServerRunning`.
    ///
    /// ```swift
    /// let app = config.httpTimeouts.application(router: router, host: "127.0.0.1", port: 0, logger: logger) { port in
    ///     logger.info("listening", metadata: ["port": "\(port)"])
    /// }
    /// ```
    package func application<Builder: HTTPResponderBuilder>(
        router: Builder, host: String, port: Int, serverName: String? = nil, services: [any Service] = [],
        logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> Application<Builder.Responder> where Builder.Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
        Application(
            router: router,
            server: httpServer(logger: logger),
            configuration: .init(address: .hostname(host, port: port), serverName: serverName),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }
}
