import HTTPServing
import Primitives

/// Everything a broker needs to know, with every default in one place (see README-broker).
///
/// ```swift
/// var config = BrokerConfig(dataDirectory: "/var/lib/telemetry/broker")
/// config.visibilityTimeout = .milliseconds(200)
/// let broker = try await MessageBroker(config: config, logger: logger)
/// ```
package struct BrokerConfig: Sendable {
    /// Root of the broker's data: `topics/<topic>/<partition>/` with segments and group state.
    package var dataDirectory: String
    /// Partitions of a topic created on first use (`PARTITIONS_PER_TOPIC`).
    package var partitionsPerTopic: Int = 4
    /// Per-topic partition counts that override `partitionsPerTopic` for topics created later.
    package var topicPartitions: [String: Int] = [:]
    /// Most recent records per partition also held in memory (`QUEUE_SIZE`).
    package var queueSize: Int = 2000
    /// Bytes of payload per partition the memory tail may hold (`QUEUE_BYTES`); the older
    /// records beyond it are read from the segments.
    package var queueBytes: Int = 64 << 20
    /// A delivered, unacked record becomes visible again after this (`VISIBILITY_TIMEOUT`).
    package var visibilityTimeout: Duration = .seconds(30)
    /// After this many deliveries without an ack a record moves to the dead-letter topic (`MAX_DELIVERIES`).
    package var maxDeliveries: Int = 5
    /// When a produce or an ack is durable (`FSYNC`).
    package var fsync: FsyncPolicy = .batch
    /// A segment is rolled once it holds this many bytes (`SEGMENT_BYTES`).
    package var segmentBytes: Int = 64 << 20
    /// Fully acked segments are kept at least this long before deletion (`RETENTION`); zero deletes at once.
    package var retention: Duration = .zero
    /// Fully acked segments are also deleted, however young, while the partition holds more
    /// than this many bytes (`RETENTION_BYTES`; 0 = only `retention` decides).
    package var retentionBytes: Int = 0
    /// Largest request body accepted over HTTP (`MAX_BODY_BYTES`); larger bodies get 413.
    package var maxBodyBytes: Int = 8 << 20
    /// Largest single record (`MAX_RECORD_BYTES`).
    package var maxRecordBytes: Int = 4 << 20
    /// Produce gets 503 when the slowest group of a partition lags this many records behind (`MAX_UNACKED`; 0 = no limit).
    package var maxUnackedRecords: Int = 0
    /// Produce gets 503 when the data directory's file system has less free space than this (`MIN_FREE_BYTES`).
    package var minFreeBytes: Int64 = 64 << 20
    /// `Retry-After` sent with a 503.
    package var retryAfter: Duration = .seconds(1)
    /// Bearer token required on every call except /health, /ready and /metrics (`SERVICE_TOKEN`).
    package var serviceToken: String? = nil
    /// Interval of SSE heartbeat comments on /consume.
    package var heartbeatInterval: Duration = .seconds(5)
    /// Most records one SSE write carries (`CONSUME_BATCH`).
    package var consumeBatch: Int = 500

    /// How long a connection may keep the HTTP server waiting (`--idle-timeout`, `--read-timeout`,
    /// `--write-timeout`; see ``HTTPTimeouts``).
    package var httpTimeouts: HTTPTimeouts = .defaults

    package init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    func partitions(for topic: String) -> Int {
        if let n = topicPartitions[topic] { return n }
        if topic.hasSuffix(".dlq") {
            let base = String(topic.dropLast(4))
            if let n = topicPartitions[base] { return n }
        }
        return partitionsPerTopic
    }
}

/// The dead-letter topic of `topic`: records that reached `maxDeliveries` go there.
package func deadLetterTopic(for topic: String) -> String { "\(topic).dlq" }

/// Why a broker call failed; `httpStatus` is what the HTTP layer answers.
package enum BrokerError: Error, CustomStringConvertible, Sendable, Equatable {
    case invalidName(kind: String, value: String)
    case invalidPartition(topic: String, partition: Int, count: Int)
    case invalidRequest(String)
    case recordTooLarge(size: Int, limit: Int)
    /// Retryable: nothing was stored.
    case unavailable(reason: String, retryAfter: Duration)
    case io(String)
    case shutDown

    package var description: String {
        switch self {
        case .invalidName(let kind, let value):
            return "invalid \(kind) name '\(value)': use 1-200 characters from A-Z a-z 0-9 . _ -"
        case .invalidPartition(let topic, let partition, let count):
            return "partition \(partition) does not exist in topic '\(topic)' (valid: 0..<\(count))"
        case .invalidRequest(let message):
            return message
        case .recordTooLarge(let size, let limit):
            return "record of \(size) bytes exceeds the limit of \(limit) bytes (MAX_RECORD_BYTES)"
        case .unavailable(let reason, _):
            return "broker cannot accept records now: \(reason); retry later"
        case .io(let message):
            return "I/O error: \(message)"
        case .shutDown:
            return "broker is shutting down"
        }
    }

    /// The HTTP status this error maps to.
    package var httpStatus: Int {
        switch self {
        case .invalidName, .invalidPartition, .invalidRequest: return 400
        case .recordTooLarge: return 413
        case .unavailable, .shutDown: return 503
        case .io: return 500
        }
    }
}

/// Topic and group names become directory and file names, so they are restricted.
func validateName(_ name: String, kind: String) throws {
    guard !name.isEmpty, name.utf8.count <= 200, name != ".", name != "..",
          name.utf8.allSatisfy({ c in
              (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                  || c == 0x2E || c == 0x5F || c == 0x2D
          })
    else { throw BrokerError.invalidName(kind: kind, value: String(name.prefix(64))) }
}
