import Foundation

/// Why a sink write failed.
package enum SinkError: RetryableError, Sendable, Equatable, CustomStringConvertible {
    /// Storage is busy or briefly unavailable (HTTP 503/429, connection refused); retry later.
    case retryable(status: Int?, retryAfter: Duration?, message: String)
    /// The write can never succeed as sent (HTTP 400/413/401).
    case rejected(status: Int?, message: String)
    /// Storage failed (disk, catalog); the collector does not ack, so the broker redelivers.
    case storage(String)
    /// A document is not valid DCGM CSV (`document`: its index, when the sink can tell).
    case malformed(document: Int?, reason: String)

    package var isRetryable: Bool {
        switch self {
        case .retryable, .storage: return true
        case .rejected, .malformed: return false
        }
    }

    package var retryAfter: Duration? {
        if case .retryable(_, let after, _) = self { return after }
        return nil
    }

    package var description: String {
        switch self {
        case .retryable(let status, _, let m): return "storage busy\(status.map { " (HTTP \($0))" } ?? ""): \(m)"
        case .rejected(let status, let m): return "storage refused the write\(status.map { " (HTTP \($0))" } ?? ""): \(m)"
        case .storage(let m): return "storage failed: \(m)"
        case .malformed(let d, let m): return "malformed document\(d.map { " #\($0)" } ?? ""): \(m)"
        }
    }
}

/// Where the collector stores what it consumed: DCGM CSV documents (broker payloads), parsed
/// strictly; a document that does not parse fails the write with ``SinkError/malformed(document:reason:)``
/// and nothing of the call is stored. ``write(documents:)`` returns only once the samples are durable — that is
/// when the collector acks. Two implementations: ``TSDBSink`` (in-process) and ``HTTPWriteSink``
/// (the API server's internal write endpoint).
package protocol SampleSink: Sendable {
    /// Stores every row of the documents; returns the number of samples stored once durable.
    func write(documents: [[UInt8]]) async throws -> Int
}
