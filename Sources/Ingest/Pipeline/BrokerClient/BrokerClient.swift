/// One record handed to a consumer: its opaque id (what ``BrokerClient/ack(topic:partition:group:ids:)``
/// takes), its payload bytes, and how many times the broker has delivered it (1 on first delivery,
/// 0 when the transport does not say).
package struct ConsumedMessage: Sendable, Equatable {
    package var id: String
    package var payload: [UInt8]
    package var deliveryCount: Int

    package init(id: String, payload: [UInt8], deliveryCount: Int = 0) {
        self.id = id
        self.payload = payload
        self.deliveryCount = deliveryCount
    }
}

/// Why a broker call failed, sorted by what the caller should do about it.
package enum BrokerClientError: RetryableError, Sendable, Equatable, CustomStringConvertible {
    /// Try again later (HTTP 503/429, a full queue, a broker that is restarting).
    case retryable(status: Int?, retryAfter: Duration?, message: String)
    /// Could not reach the broker at all (refused, reset, timed out); retryable.
    case connection(String)
    /// The broker refused the request for good (bad partition, too large, unauthorised).
    case rejected(status: Int?, message: String)
    /// The client was closed.
    case closed

    /// Whether sending the same request again may succeed.
    package var isRetryable: Bool {
        switch self {
        case .retryable, .connection: return true
        case .rejected, .closed: return false
        }
    }

    package var retryAfter: Duration? {
        if case .retryable(_, let after, _) = self { return after }
        return nil
    }

    package var description: String {
        switch self {
        case .retryable(let status, _, let m):
            return "broker busy\(status.map { " (HTTP \($0))" } ?? ""): \(m); will retry"
        case .connection(let m): return "cannot reach the broker: \(m); check --broker and that it is running"
        case .rejected(let status, let m):
            return "broker refused the request\(status.map { " (HTTP \($0))" } ?? ""): \(m)"
        case .closed: return "the broker client is closed"
        }
    }
}

/// The streamer's and the collector's view of a broker: produce batches, poll a partition as a
/// member of a consumer group, ack. Two implementations: ``InProcessBrokerClient`` (the embedded
/// stack, calling `MessageBroker` directly) and ``HTTPBrokerClient`` (a broker or the proxy over
/// HTTP). Both guarantee that a produce call returns only once the records are durable and that
/// records of one partition are delivered in produce order.
package protocol BrokerClient: Sendable {
    /// Number of partitions of `topic`.
    func partitionCount(topic: String) async throws -> Int
    /// Appends `payloads` to one partition, in order; returns their record ids once durable.
    func produce(topic: String, partition: Int, payloads: [[UInt8]]) async throws -> [String]
    /// Waits up to `wait` for at most `maxRecords` records of one partition for `group`. Records
    /// returned are in flight for the group until acked or the broker's visibility timeout ends.
    func poll(topic: String, partition: Int, group: String, maxRecords: Int, wait: Duration) async throws -> [ConsumedMessage]
    /// Acknowledges records; idempotent. Returns how many the broker knew.
    @discardableResult
    func ack(topic: String, partition: Int, group: String, ids: [String]) async throws -> Int
    /// Records of a partition not yet acked by `group`, when the transport can tell (nil otherwise).
    func lag(topic: String, partition: Int, group: String) async -> Int?
    /// Releases connections; pending calls fail with ``BrokerClientError/closed``.
    func close() async
}

extension BrokerClient {
    /// Records of a partition not yet acked by `group`, when the transport can tell (nil otherwise).
    package func lag(topic: String, partition: Int, group: String) async -> Int? { nil }
}
