import Primitives
import TSDB

/// JSON samples (one object, an array, or NDJSON) straight into the ``SampleBatch`` the
/// engine appends: each sample's series is found in a ``LabelBytesCache`` by the bytes of the
/// fields its labels come from (``JSONSamples/labelKey(_:into:)``), and only series the cache
/// does not know get ``Labels`` (resolved in one catalog call per request by
/// ``seal(_:db:)``). Samples, errors and their order are exactly ``JSONSamples/decode(_:now:)``'s
/// (or ``JSONSamples/decodeNDJSON(_:now:)``'s).
///
/// ```swift
/// let builder = JSONBatchBuilder()
/// var parsed = try builder.parse(body, ndjson: false, now: now)
/// let result = try await builder.append(&parsed, to: db) { try builder.parse(body, ndjson: false, now: now) }  // stale refs: parsed again
/// ```
package final class JSONBatchBuilder: CachedBatchBuilder {
    package let cache: LabelBytesCache

    package init(maxCachedSeries: Int = 2_000_000) {
        cache = LabelBytesCache(maxSeries: maxCachedSeries)
    }

    /// A parsed body: its samples as a batch (refs of new series still to resolve).
    package struct Parsed: Sendable {
        package fileprivate(set) var batch = SampleBatch(capacity: 0)
        fileprivate var series = PendingSeries()
    }

    package func parse(_ bytes: [UInt8], ndjson: Bool, now: Int64) throws(JSONSampleError) -> Parsed {
        var p = Parsed()
        // The original service's objects run ~250 bytes each.
        p.batch = SampleBatch(capacity: bytes.count / 192 + 4)
        var key: [UInt8] = []
        key.reserveCapacity(256)
        try JSONSamples.forEachItem(bytes, ndjson: ndjson) { item, index throws(JSONSampleError) in
            let parts = try JSONSamples.parts(item, index: index, now: now)
            key.removeAll(keepingCapacity: true)
            JSONSamples.labelKey(parts, into: &key)
            let hash = XXHash64.hash(key)
            if let id = key.withUnsafeBytes({ self.cache.lookup(hash, $0) }) {
                p.batch.append(SeriesRef(id), parts.timestamp, parts.value)
                return
            }
            let position = p.batch.count
            try p.series.add(hash: hash, key: key, at: position) { () throws(JSONSampleError) -> Labels in
                try JSONSamples.labels(parts, index: index, line: item.line)
            }
            p.batch.append(SeriesRef(0), parts.timestamp, parts.value)
        }
        return p
    }

    package func seal(_ p: inout Parsed, db: TSDB) throws -> SampleBatch {
        try p.series.resolve(into: &p.batch, db: db, cache: cache)
        return p.batch
    }
}
