import Foundation
import Synchronization
import TSDB

/// A document of a multi-document write that is not valid DCGM CSV.
package struct DCGMDocumentError: Error, Sendable, CustomStringConvertible {
    /// Its index in the call's documents.
    package let document: Int
    package let reason: String
    package var description: String { "document #\(document): \(reason)" }
}

/// The one DCGM write path: turns parsed rows into a ``SampleBatch`` of series refs, finding
/// known series in a bounded cache keyed by the row's raw label bytes *and* the header's
/// column order (the same bytes under another header are another series), and resolving new
/// ones in one catalog call per batch. `import`, ``TSDBSink`` and the API's CSV write routes
/// all write through it.
///
/// ```swift
/// let builder = DCGMBatchBuilder()
/// var pending = DCGMBatchBuilder.Pending()
/// try parser.feedRows(chunk) { builder.add($0, to: &pending) }
/// let (batch, _) = try builder.seal(&pending, db: db)
/// ```
///
/// A ref can go stale (retention dropped its series): `db.append` then throws
/// `TSDBError.unknownSeries`; call ``invalidate()`` and build the batch again.
package final class DCGMBatchBuilder: Sendable {
    /// Striped by key hash so writers on different partitions rarely meet on a lock.
    private let shards: [CacheShard] = (0..<16).map { _ in CacheShard() }
    private let headers = Mutex(HeaderTags())
    private let maxPerShard: Int

    /// - Parameter maxCachedSeries: series refs kept at most; a full shard restarts empty.
    package init(maxCachedSeries: Int = 2_000_000) {
        maxPerShard = max(1, maxCachedSeries / 16)
    }

    /// The rows of one batch being built; not shared between tasks.
    package struct Pending {
        package fileprivate(set) var batch = SampleBatch(capacity: 0)
        /// Rows of series not in the cache: their batch positions and which new series they are.
        fileprivate var missing: [(index: Int, series: Int)] = []
        fileprivate var newKeys: [(hash: UInt64, key: [UInt8])] = []
        fileprivate var newLabels: [Labels] = []
        fileprivate var newIndex: [[UInt8]: Int] = [:]
        /// The column map of the header last seen and its tag.
        fileprivate var lastMap: [Int] = []
        fileprivate var tag: UInt32 = 0

        package init(capacity: Int = 0) { batch = SampleBatch(capacity: capacity) }
        package var count: Int { batch.count }
    }

    /// Adds a row: its sample, under its cached series ref or as a series to resolve.
    package func add(_ row: borrowing DCGMRow, to p: inout Pending) {
        if !row.hasMap(p.lastMap) {
            p.lastMap = row.columnMap()
            p.tag = headers.withLock { $0.tag(p.lastMap) }
        }
        let tag = p.tag
        let hash = row.seriesKeyHash(tag: tag)
        var found: UInt32?
        if let bucket = shards[Int(hash & 15)].cache.withLock({ $0.bucket(hash) }) {
            for entry in bucket where row.seriesKeyEquals(entry.key, tag: tag) {
                found = entry.id
                break
            }
        }
        if let id = found {
            p.batch.append(SeriesRef(id), row.timestamp, row.value)
            return
        }
        let key = row.seriesKeyBytes(tag: tag)
        let series: Int
        if let known = p.newIndex[key] {
            series = known
        } else {
            series = p.newLabels.count
            p.newIndex[key] = series
            p.newKeys.append((hash, key))
            p.newLabels.append(row.labels())
        }
        p.missing.append((p.batch.count, series))
        p.batch.append(SeriesRef(0), row.timestamp, row.value)
    }

    /// Resolves the pending rows' new series (one catalog call), caches them and hands back
    /// the finished batch and how many series the catalog created; `p` starts over empty.
    package func seal(_ p: inout Pending, db: TSDB) throws -> (batch: SampleBatch, newSeries: Int) {
        var batch = p.batch
        var created = 0
        if !p.missing.isEmpty {
            let before = db.seriesCount
            let resolved = try db.resolve(p.newLabels)
            created = db.seriesCount - before
            guard resolved.count == p.newLabels.count else {
                throw TSDBError.catalog("resolved \(resolved.count) of \(p.newLabels.count) new series")
            }
            for m in p.missing { batch.refs[m.index] = resolved[m.series].id }
            for (i, k) in p.newKeys.enumerated() {
                shards[Int(k.hash & 15)].cache.withLock { cache in
                    if cache.count >= maxPerShard { cache = SeriesKeyCache() }
                    cache.insert(k.hash, k.key, resolved[i].id)
                }
            }
        }
        let (lastMap, tag) = (p.lastMap, p.tag)
        p = Pending()
        (p.lastMap, p.tag) = (lastMap, tag)
        return (batch, created)
    }

    /// Parses whole documents strictly into one batch; a bad document fails the call with
    /// ``DCGMDocumentError`` and nothing of it is kept.
    package func batch(of documents: [[UInt8]], db: TSDB) throws -> SampleBatch {
        var pending = Pending(capacity: documents.reduce(0) { $0 + $1.count / 256 })
        for (index, doc) in documents.enumerated() {
            var parser = DCGMCSVParser(strict: true)
            do {
                try doc.withUnsafeBytes { try parser.feedRows($0) { add($0, to: &pending) } }
                try parser.finishRows { add($0, to: &pending) }
            } catch {
                throw DCGMDocumentError(document: index, reason: "\(error)")
            }
        }
        return try seal(&pending, db: db).batch
    }

    /// Forgets every cached ref (after `TSDBError.unknownSeries`: a series was dropped).
    package func invalidate() {
        for shard in shards { shard.cache.withLock { $0 = SeriesKeyCache() } }
    }
}

/// A number per distinct header column map. Numbers are never reused, so a key cached under
/// a tag always means the header it was made under, even after the table restarts.
struct HeaderTags {
    private var tags: [[Int]: UInt32] = [:]
    private var next: UInt32 = 1

    mutating func tag(_ map: [Int]) -> UInt32 {
        if let t = tags[map] { return t }
        if tags.count >= 4_096 { tags = [:] }
        let t = next
        next &+= 1
        tags[map] = t
        return t
    }
}

final class CacheShard: Sendable {
    let cache = Mutex(SeriesKeyCache())
}
