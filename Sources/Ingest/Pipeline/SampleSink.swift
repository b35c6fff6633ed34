import Foundation
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
    /// A document is not valid DCGM CSV (`document`: its index, when the sink can tell).
    case malformed(document: Int?, reason: String)

    public var isRetryable: Bool {
        switch self {
        case .retryable, .storage: return true
        case .rejected, .malformed: return false
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
        case .malformed(let d, let m): return "malformed document\(d.map { " #\($0)" } ?? ""): \(m)"
        }
    }
}

/// Where the collector stores what it consumed: DCGM CSV documents (broker payloads), parsed
/// strictly; a document that does not parse fails the write with ``SinkError/malformed(document:reason:)``
/// and nothing of the call is stored. ``write(documents:)`` returns only once the samples are durable — that is
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
    /// Striped by key hash so collector tasks on different partitions rarely meet on a lock.
    private let shards: [CacheShard] = (0..<16).map { _ in CacheShard() }
    /// Series refs kept at most; the cache restarts empty past it.
    private let maxCachedSeries: Int

    public init(_ db: TSDB, maxCachedSeries: Int = 2_000_000) {
        self.db = db
        self.maxCachedSeries = maxCachedSeries
    }

    /// Stores the rows; samples the database refuses (too far ahead of its clock, outside
    /// the out-of-order window) are counted by it (`tsdb_samples_*_total`) and logged, and
    /// the rest is stored — redelivering them would never succeed, so the collector acks.
    public func write(documents: [[UInt8]]) async throws -> Int {
        try await store(documents: documents).appended
    }

    /// ``write(documents:)`` with the database's full account of what it stored and refused.
    public func store(documents: [[UInt8]]) async throws -> AppendResult {
        do {
            let batch = try makeBatch(documents)
            guard !batch.isEmpty else { return AppendResult() }
            do {
                return try await db.append(batch)
            } catch TSDBError.unknownSeries {
                // A ref went stale (series dropped by retention): resolve afresh once.
                for shard in shards { shard.cache.withLock { $0 = SeriesKeyCache() } }
                return try await db.append(try makeBatch(documents))
            }
        } catch let error as TSDBError {
            throw SinkError.storage(error.description)
        }
    }

    private func makeBatch(_ documents: [[UInt8]]) throws -> SampleBatch {
        var batch = SampleBatch(capacity: documents.reduce(0) { $0 + $1.count / 256 })
        // Rows of series not in the cache: their batch positions and which new series they are.
        var missing: [(index: Int, series: Int)] = []
        var newKeys: [(hash: UInt64, key: [UInt8])] = []
        var newLabels: [Labels] = []
        var newIndex: [[UInt8]: Int] = [:]
        for (docIndex, doc) in documents.enumerated() {
            var parser = DCGMCSVParser(strict: true)
            let onRow: (borrowing DCGMRow) throws -> Void = { row in
                // The series key is the row's bytes minus timestamp and value: hashed and
                // compared in place, copied only for a series seen for the first time.
                let hash = row.seriesKeyHash()
                var found: UInt32?
                if let bucket = self.shards[Int(hash & 15)].cache.withLock({ $0.bucket(hash) }) {
                    for entry in bucket where row.seriesKeyEquals(entry.key) {
                        found = entry.id
                        break
                    }
                }
                if let id = found {
                    batch.refs.append(id)
                } else {
                    let key = row.seriesKeyBytes()
                    let series: Int
                    if let known = newIndex[key] {
                        series = known
                    } else {
                        series = newLabels.count
                        newIndex[key] = series
                        newKeys.append((hash, key))
                        newLabels.append(row.labels())
                    }
                    missing.append((batch.refs.count, series))
                    batch.refs.append(0)
                }
                batch.timestamps.append(row.timestamp)
                batch.values.append(row.value)
            }
            do {
                try doc.withUnsafeBytes { try parser.feedRows($0, onRow) }
                try parser.finishRows(onRow)
            } catch {
                throw SinkError.malformed(document: docIndex, reason: "\(error)")
            }
        }
        guard !missing.isEmpty else { return batch }
        // New series: one catalog call for all of them.
        let resolved = try db.resolve(newLabels)
        guard resolved.count == newLabels.count else {
            throw SinkError.storage("resolved \(resolved.count) of \(newLabels.count) new series")
        }
        for m in missing { batch.refs[m.index] = resolved[m.series].id }
        let maxPerShard = max(1, maxCachedSeries / shards.count)
        for (i, k) in newKeys.enumerated() {
            shards[Int(k.hash & 15)].cache.withLock { cache in
                if cache.count >= maxPerShard { cache = SeriesKeyCache() }
                cache.insert(k.hash, k.key, resolved[i].id)
            }
        }
        return batch
    }
}

final class CacheShard: Sendable {
    let cache = Mutex(SeriesKeyCache())
}

/// Series refs by the raw bytes of a row's label columns, bucketed by their xxHash64 (the key
/// is compared too, so a hash collision cannot mix series up).
struct SeriesKeyCache {
    private var buckets: [UInt64: [(key: [UInt8], id: UInt32)]] = [:]
    private(set) var count = 0

    func bucket(_ hash: UInt64) -> [(key: [UInt8], id: UInt32)]? { buckets[hash] }

    func lookup(_ hash: UInt64, _ key: [UInt8]) -> UInt32? {
        guard let bucket = buckets[hash] else { return nil }
        for entry in bucket where Self.same(entry.key, key) { return entry.id }
        return nil
    }

    private static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                guard let x = pa.baseAddress, let y = pb.baseAddress else { return pa.count == 0 }
                return memcmp(x, y, pa.count) == 0
            }
        }
    }

    mutating func insert(_ hash: UInt64, _ key: [UInt8], _ id: UInt32) {
        if lookup(hash, key) != nil { return }
        buckets[hash, default: []].append((key, id))
        count += 1
    }
}
