import Synchronization
import TSDB

/// Why a sink write failed.
public enum SinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Storage is busy or briefly unavailable (HTTP 503/429, connection refused); retry later.
    case retryable(status: Int?, retryAfter: Duration?, message: String)
    /// The write can never succeed as sent (HTTP 400/413/401).
    case rejected(status: Int?, message: String)
    /// Storage failed (disk, catalog); the collector does not ack, so the broker redelivers.
    case storage(String)

    public var isRetryable: Bool {
        switch self {
        case .retryable, .storage: return true
        case .rejected: return false
        }
    }

    public var retryAfter: Duration? {
        if case .retryable(_, let after, _) = self { return after }
        return nil
    }

    public var description: String {
        switch self {
        case .retryable(let status, _, let m): return "storage busy\(status.map { " (HTTP \($0))" } ?? ""): \(m)"
        case .rejected(let status, let m): return "storage refused the write\(status.map { " (HTTP \($0))" } ?? ""): \(m)"
        case .storage(let m): return "storage failed: \(m)"
        }
    }
}

/// Where the collector stores what it consumed: DCGM CSV documents (broker payloads it has
/// already validated). ``write(documents:)`` returns only once the samples are durable — that is
/// when the collector acks. Two implementations: ``TSDBSink`` (in-process) and ``HTTPWriteSink``
/// (the API server's internal write endpoint).
public protocol SampleSink: Sendable {
    /// Stores every row of the documents; returns the number of samples stored once durable.
    func write(documents: [[UInt8]]) async throws -> Int
}

/// Writes into a ``TSDB`` in this process. Rows are parsed in place (no per-row strings) and
/// their series found by the raw bytes of their label columns in a cache of series refs, so a
/// known series costs one hash lookup; new series are resolved in one catalog call per write.
///
/// ```swift
/// let sink = TSDBSink(db)
/// try await sink.write(documents: [payload])   // durable under the database's fsync policy
/// ```
public final class TSDBSink: SampleSink {
    public let db: TSDB
    private let refs = Mutex<[[UInt8]: UInt32]>([:])
    /// Series refs kept at most; the cache restarts empty past it.
    private let maxCachedSeries: Int

    public init(_ db: TSDB, maxCachedSeries: Int = 2_000_000) {
        self.db = db
        self.maxCachedSeries = maxCachedSeries
    }

    public func write(documents: [[UInt8]]) async throws -> Int {
        do {
            let batch = try makeBatch(documents)
            guard !batch.isEmpty else { return 0 }
            do {
                return try await db.append(batch).appended
            } catch TSDBError.unknownSeries {
                // A ref went stale (series dropped by retention): resolve afresh once.
                refs.withLock { $0.removeAll() }
                return try await db.append(try makeBatch(documents)).appended
            }
        } catch let error as TSDBError {
            throw SinkError.storage(error.description)
        } catch let error as DCGMError {
            throw SinkError.rejected(status: nil, message: error.description)
        }
    }

    private func makeBatch(_ documents: [[UInt8]]) throws -> SampleBatch {
        var batch = SampleBatch(capacity: documents.reduce(0) { $0 + $1.count / 256 })
        var missing: [(index: Int, key: [UInt8], labels: Labels)] = []
        var key: [UInt8] = []
        key.reserveCapacity(512)
        for doc in documents {
            var parser = DCGMCSVParser(strict: true)
            let onRow: (borrowing DCGMRow) throws -> Void = { row in
                key.removeAll(keepingCapacity: true)
                row.appendSeriesKey(to: &key)
                if let id = self.refs.withLock({ $0[key] }) {
                    batch.refs.append(id)
                } else {
                    missing.append((batch.refs.count, key, row.labels()))
                    batch.refs.append(0)
                }
                batch.timestamps.append(row.timestamp)
                batch.values.append(row.value)
            }
            try doc.withUnsafeBytes { try parser.feedRows($0, onRow) }
            try parser.finishRows(onRow)
        }
        guard !missing.isEmpty else { return batch }
        // New series: one catalog call for all of them.
        var unique: [Labels] = []
        var position: [Labels: Int] = [:]
        for m in missing where position[m.labels] == nil {
            position[m.labels] = unique.count
            unique.append(m.labels)
        }
        let resolved = try db.resolve(unique)
        var fresh: [[UInt8]: UInt32] = [:]
        for m in missing {
            guard let i = position[m.labels], i < resolved.count else {
                throw SinkError.storage("series \(m.labels) did not resolve")
            }
            batch.refs[m.index] = resolved[i].id
            fresh[m.key] = resolved[i].id
        }
        let maxCached = maxCachedSeries
        refs.withLock { cache in
            if cache.count + fresh.count > maxCached { cache.removeAll(keepingCapacity: true) }
            cache.merge(fresh) { a, _ in a }
        }
        return batch
    }
}
