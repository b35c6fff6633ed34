import Primitives
import TSDB

/// Prometheus remote_write (a decompressed `WriteRequest`) straight into the ``SampleBatch``
/// the engine appends: each `TimeSeries`' series is found in a ``LabelBytesCache`` by the raw
/// protobuf bytes of its `Label` fields, so a known series costs two hashes and a probe —
/// no `String`, no ``Labels``. Series the cache does not know are decoded, checked
/// and given labels exactly as ``RemoteWrite/decode(_:limits:)`` does (and resolved in one
/// catalog call per request by ``seal(_:db:)``): the same samples, errors and error order.
///
/// A cached key is only ever one whose labels passed every check under this builder's
/// `limits`, so a hit needs none of them again.
///
/// ```swift
/// let builder = RemoteWriteBatchBuilder()
/// let bytes = try Snappy.decompress(body, limit: 64 << 20)
/// var parsed = try builder.parse(bytes)
/// let result = try await builder.append(&parsed, to: db) { try builder.parse(bytes) }  // stale refs: parsed again
/// ```
package final class RemoteWriteBatchBuilder: CachedBatchBuilder {
    package let cache: LabelBytesCache
    package let limits: RemoteWriteLimits

    package init(limits: RemoteWriteLimits = RemoteWriteLimits(), maxCachedSeries: Int = 2_000_000) {
        self.limits = limits
        cache = LabelBytesCache(maxSeries: maxCachedSeries)
    }

    /// A parsed request: its samples as a batch (refs of new series still to resolve) and
    /// the counts ``RemoteWriteRequest`` has.
    package struct Parsed: Sendable {
        package fileprivate(set) var batch = SampleBatch(capacity: 0)
        package fileprivate(set) var seriesCount = 0
        package fileprivate(set) var metadataCount = 0
        package fileprivate(set) var exemplarsSkipped = 0
        package fileprivate(set) var histogramsSkipped = 0
        package var sampleCount: Int { batch.count }
        fileprivate var series = PendingSeries()
    }

    package func parse(_ bytes: [UInt8]) throws(RemoteWriteError) -> Parsed {
        var p = Parsed()
        // A remote_write sample costs ~12 bytes; series headers more.
        p.batch = SampleBatch(capacity: bytes.count / 32 + 4)
        var labelFields: [Range<Int>] = []
        var key: [UInt8] = []
        (p.seriesCount, p.metadataCount) = try RemoteWrite.walk(bytes) { (sub, index) throws(RemoteWriteError) in
            try series(sub, index: index, bytes: bytes, labelFields: &labelFields, key: &key, into: &p)
        }
        return p
    }

    /// One `TimeSeries`: a quick pass takes its samples and the ranges of its `Label` fields;
    /// a cached key adds the samples under its ref. Anything else — a new key, no samples, a
    /// malformed message — goes through ``RemoteWrite``'s own series decoder, which throws
    /// the first error in byte order exactly as a plain decode would.
    private func series(_ message: ProtoReader, index: Int, bytes: [UInt8], labelFields: inout [Range<Int>],
                        key: inout [UInt8], into p: inout Parsed) throws(RemoteWriteError) {
        let start = p.batch.count
        labelFields.removeAll(keepingCapacity: true)
        let quick = Result { () throws(RemoteWriteError) in try Self.scan(message, labelFields: &labelFields, batch: &p.batch) }
        var hash: UInt64 = 0
        if case .success(let skipped) = quick, p.batch.count > start {
            let cached: UInt32?
            if let first = labelFields.first, let last = labelFields.last,
               last.upperBound - first.lowerBound == labelFields.reduce(0, { $0 + $1.count }) {
                // The usual layout: the labels one after another, so the key is read in place.
                let found = bytes.withUnsafeBytes { b -> (UInt64, UInt32?) in
                    let k = UnsafeRawBufferPointer(rebasing: b[first.lowerBound..<last.upperBound])
                    let h = XXHash64.hash(k)
                    return (h, cache.lookup(h, k))
                }
                hash = found.0
                cached = found.1
                if cached == nil { key = Array(bytes[first.lowerBound..<last.upperBound]) }
            } else {
                key.removeAll(keepingCapacity: true)
                for r in labelFields { key.append(contentsOf: bytes[r]) }
                hash = XXHash64.hash(key)
                cached = key.withUnsafeBytes { cache.lookup(hash, $0) }
            }
            if let id = cached {
                for i in start..<p.batch.count { p.batch.refs[i] = id }
                p.exemplarsSkipped += skipped.exemplars
                p.histogramsSkipped += skipped.histograms
                return
            }
        }
        // New to the cache, no samples, or malformed: the full decoder checks and labels it.
        p.batch.truncate(to: start)
        var one = RemoteWriteRequest()
        try RemoteWrite.decodeSeries(message, index: index, limits: limits, into: &one)
        if case .failure(let error) = quick { throw error }  // not reached: the full decoder checks more
        p.exemplarsSkipped += one.exemplarsSkipped
        p.histogramsSkipped += one.histogramsSkipped
        // Samples decode the same both ways, so a series with samples here has its key.
        guard let labels = one.series.first else { return }
        for i in one.timestamps.indices {
            let position = p.batch.count
            p.series.add(hash: hash, key: key, at: position) { labels }
            p.batch.append(SeriesRef(0), one.timestamps[i], one.values[i])
        }
    }

    /// The samples of one `TimeSeries` into `batch` (refs left 0) and the byte ranges of its
    /// `Label` fields, tag to end; exemplars and histograms counted, as the full decoder does.
    private static func scan(_ message: ProtoReader, labelFields: inout [Range<Int>],
                             batch: inout SampleBatch) throws(RemoteWriteError) -> (exemplars: Int, histograms: Int) {
        var reader = message
        var exemplars = 0, histograms = 0
        while let (field, wire, at) = try reader.nextTag() {
            switch (field, wire) {
            case (1, 2):
                _ = try reader.bytesRange(at: at, what: "Label")
                labelFields.append(at..<reader.position)
            case (2, 2):
                let (nanos, value) = try RemoteWrite.decodeSample(try reader.subMessage(at: at, what: "Sample"), series: 0)
                batch.append(SeriesRef(0), nanos, value)
            case (3, 2):
                _ = try reader.subMessage(at: at, what: "Exemplar")
                exemplars += 1
            case (4, 2):
                _ = try reader.subMessage(at: at, what: "Histogram")
                histograms += 1
            default:
                try reader.skip(wire: wire, field: field, at: at)
            }
        }
        return (exemplars, histograms)
    }

    package func seal(_ p: inout Parsed, db: TSDB) throws -> SampleBatch {
        try p.series.resolve(into: &p.batch, db: db, cache: cache)
        return p.batch
    }
}

extension SampleBatch {
    /// Drops the samples from position `count` on.
    mutating func truncate(to count: Int) {
        guard count < self.count else { return }
        refs.removeLast(self.count - count)
        timestamps.removeLast(timestamps.count - count)
        values.removeLast(values.count - count)
    }
}
