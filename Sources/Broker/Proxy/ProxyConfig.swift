import HTTPServing

/// Configuration of `telemetry proxy` (defaults documented in README-broker).
package struct ProxyConfig: Sendable {
    /// Broker base URLs, e.g. `http://broker-0.broker.ns.svc.cluster.local:9092`. Their order
    /// does not matter for routing (the ring hashes the URLs), but every replica must use the
    /// same set.
    package var brokers: [String]
    /// Partitions per topic the brokers create (`PARTITIONS_PER_TOPIC`; give the proxy the
    /// brokers' value): the balanced assignment spreads exactly these over the brokers.
    package var partitionsPerTopic: Int = 4
    /// Per-topic partition counts (`TOPIC_PARTITIONS`), as given to the brokers.
    package var topicPartitions: [String: Int] = [:]
    /// Points per broker on the ring (`VIRTUAL_NODES`).
    package var virtualNodes: Int = 150
    /// When the owner is down, route to the next healthy broker on the ring (`FAILOVER`);
    /// otherwise answer a retryable 503 at once.
    package var failover: Bool = false
    /// Interval of the health checks (`HEALTH_INTERVAL`).
    package var healthInterval: Duration = .seconds(2)
    /// Timeout of one health check.
    package var healthTimeout: Duration = .seconds(1)
    /// Token required from callers and sent to brokers (`SERVICE_TOKEN`).
    package var serviceToken: String? = nil
    /// Largest request body (`MAX_BODY_BYTES`).
    package var maxBodyBytes: Int = 8 << 20
    /// Timeout of a forwarded produce or ack.
    package var requestTimeout: Duration = .seconds(30)
    package var retryAfter: Duration = .seconds(1)

    /// How long a connection may keep the HTTP server waiting (`--idle-timeout`, `--read-timeout`,
    /// `--write-timeout`; see ``HTTPTimeouts``).
    package var httpTimeouts: HTTPTimeouts = .defaults

    package init(brokers: [String]) {
        self.brokers = brokers.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }
}

/// Broker URLs of a StatefulSet behind a headless service:
/// `http://<service>-<i>.<service>.<namespace>.svc.<domain>:<port>` for i in 0..<count.
package func statefulSetBrokerURLs(service: String, count: Int, namespace: String, port: Int, clusterDomain: String = "cluster.local") -> [String] {
    (0..<max(0, count)).map { "http://\(service)-\($0).\(service).\(namespace).svc.\(clusterDomain):\(port)" }
}
