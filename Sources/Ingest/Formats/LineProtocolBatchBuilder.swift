import Primitives
import TSDB

/// Line protocol straight into the ``SampleBatch`` the engine appends: each line is scanned
/// in place, each field's series is found in a ``LabelBytesCache`` by the line's raw
/// measurement-and-tags bytes plus the field key, and only series the cache does not know
/// get ``Labels`` (resolved in one catalog call per request by ``seal(_:db:)``). Lines,
/// errors, precision and string-field counting are exactly ``LineProtocolParser/parse``'s.
///
/// ```swift
/// let builder = LineProtocolBatchBuilder()
/// var parsed = try builder.parse(body, precision: .ms, now: now)
/// let batch = try builder.seal(&parsed, db: db)
/// try await db.append(batch)   // TSDBError.unknownSeries: builder.invalidate(), parse again
/// ```
package final class LineProtocolBatchBuilder: Sendable {
    let cache: LabelBytesCache

    package init(maxCachedSeries: Int = 2_000_000) {
        cache = LabelBytesCache(maxSeries: maxCachedSeries)
    }

    /// A parsed body: its samples as a batch (refs of new series still to resolve).
    package struct Parsed: Sendable {
        package fileprivate(set) var batch = SampleBatch(capacity: 0)
        /// Lines with points (comments and blank lines excluded).
        package fileprivate(set) var lines = 0
        /// String fields, which a Float64 store cannot hold; counted, not stored.
        package fileprivate(set) var skippedStringFields = 0
        /// Lines refused, in order, with ``LineProtocolParser/BadLines/skip``.
        package fileprivate(set) var badLines: [LineProtocolError] = []
        fileprivate var series = PendingSeries()
    }

    package func parse(_ bytes: [UInt8], precision: LineProtocolPrecision = .ns, now: Int64,
                       badLines: LineProtocolParser.BadLines = .refuse) throws(LineProtocolError) -> Parsed {
        var p = Parsed()
        // DCGM line protocol runs ~230 bytes a line, one field each.
        p.batch = SampleBatch(capacity: bytes.count / 128 + 16)
        var skipped = 0
        let scan = try LineProtocolParser.scanLines(bytes, precision: precision, now: now, badLines: badLines,
                                                    skippedStringFields: &skipped) { buf, spans in
            guard let base = UnsafeRawPointer(buf.baseAddress) else { return }
            let series = UnsafeRawBufferPointer(start: base + spans.seriesStart, count: spans.seriesEnd - spans.seriesStart)
            let seriesHash = XXHash64.hash(series)
            for field in spans.fields {
                let key = UnsafeRawBufferPointer(start: base + field.keyStart, count: field.keyEnd - field.keyStart)
                let hash = XXHash64.hash(key, seed: seriesHash)
                if let id = cache.lookup(hash, series, key) {
                    p.batch.append(SeriesRef(id), spans.timestamp, field.value)
                    continue
                }
                var raw = [UInt8](series)
                raw.append(0x20)
                raw.append(contentsOf: key)
                let position = p.batch.count
                p.series.add(hash: hash, key: raw, at: position) { LineProtocolParser.labels(buf, spans, field: field) }
                p.batch.append(SeriesRef(0), spans.timestamp, field.value)
            }
        }
        p.lines = scan.lines
        p.badLines = scan.badLines
        p.skippedStringFields = skipped
        return p
    }

    /// Resolves the new series of `p` (one catalog call; series limits apply there), caches
    /// them and returns the finished batch. Throws what ``TSDB/resolve(_:)`` throws.
    package func seal(_ p: inout Parsed, db: TSDB) throws -> SampleBatch {
        try p.series.resolve(into: &p.batch, db: db, cache: cache)
        return p.batch
    }

    /// Forgets every cached ref (after `TSDBError.unknownSeries`: a series was dropped).
    package func invalidate() { cache.invalidate() }
}

/// The series of a batch that a ``LabelBytesCache`` did not know: their labels (built
/// once per new series, not per sample) and the batch positions waiting for their refs.
struct PendingSeries: Sendable {
    private var missing: [(index: Int, series: Int)] = []
    private var keys: [(hash: UInt64, key: [UInt8])] = []
    private var labels: [Labels] = []
    private var index: [[UInt8]: Int] = [:]

    var isEmpty: Bool { missing.isEmpty }

    mutating func add(hash: UInt64, key: [UInt8], at position: Int, labels make: () -> Labels) {
        let series: Int
        if let known = index[key] {
            series = known
        } else {
            series = labels.count
            index[key] = series
            keys.append((hash, key))
            labels.append(make())
        }
        missing.append((position, series))
    }

    /// Fills in the refs of the waiting positions (one ``TSDB/resolve(_:)`` call) and caches them.
    mutating func resolve(into batch: inout SampleBatch, db: TSDB, cache: LabelBytesCache) throws {
        guard !missing.isEmpty else { return }
        let resolved = try db.resolve(labels)
        guard resolved.count == labels.count else {
            throw TSDBError.catalog("resolved \(resolved.count) of \(labels.count) new series")
        }
        for m in missing { batch.refs[m.index] = resolved[m.series].id }
        for (i, k) in keys.enumerated() { cache.insert(k.hash, k.key, resolved[i].id) }
        self = PendingSeries()
    }
}
