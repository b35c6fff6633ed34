#if canImport(Glibc)
import Glibc
#endif
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
/// let result = try await builder.append(&parsed, to: db) { try builder.parse(body, precision: .ms, now: now) }  // stale refs: parsed again
/// ```
package final class LineProtocolBatchBuilder: CachedBatchBuilder {
    package let cache: LabelBytesCache

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
        var fields = LineProtocolSpans()
        var ids: [UInt32] = []
        ids.reserveCapacity(16)
        let scan = try LineProtocolParser.scanLines(bytes, precision: precision, now: now, badLines: badLines,
                                                    skippedStringFields: &skipped, known: { line, skipped -> Bool in
            // A line whose series are all cached: found by `memchr`, only its field set scanned.
            guard let (series, fieldsAt) = Self.seriesBytes(line) else { return false }
            var scanner = line
            scanner.pos = fieldsAt
            let before = skipped
            fields.fields.removeAll(keepingCapacity: true)
            do throws(LineProtocolError) {
                try scanner.scanFields(precision: precision, now: now, into: &fields, skippedStringFields: &skipped)
            } catch {
                skipped = before
                return false
            }
            // No numeric field: nothing proves the series bytes valid, so the full scan decides.
            guard !fields.fields.isEmpty, let base = UnsafeRawPointer(line.buf.baseAddress) else { skipped = before; return false }
            let seriesHash = XXHash64.hash(series)
            ids.removeAll(keepingCapacity: true)
            for field in fields.fields {
                let key = UnsafeRawBufferPointer(start: base + field.keyStart, count: field.keyEnd - field.keyStart)
                guard let id = self.cache.lookup(XXHash64.hash(key, seed: seriesHash), series, key) else { skipped = before; return false }
                ids.append(id)
            }
            for (i, field) in fields.fields.enumerated() { p.batch.append(SeriesRef(ids[i]), fields.timestamp, field.value) }
            return true
        }) { buf, spans in
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
                p.series.add(hash: hash, key: raw, split: series.count, at: position) { LineProtocolParser.labels(buf, spans, field: field) }
                p.batch.append(SeriesRef(0), spans.timestamp, field.value)
            }
        }
        p.lines = scan.lines
        p.badLines = scan.badLines
        p.skippedStringFields = skipped
        return p
    }

    /// The measurement and tags of `line` as written — up to its first space not escaped by
    /// a backslash (an odd run of them), found by `memchr` — and where its field set starts.
    /// Only a cache hit on these bytes says they are a valid series (they were when cached).
    @inline(__always)
    static func seriesBytes(_ line: LineScanner) -> (UnsafeRawBufferPointer, Int)? {
        guard let base = UnsafeRawPointer(line.buf.baseAddress) else { return nil }
        let first = line.pos
        var from = first
        while from < line.end {
            guard let hit = memchr(base + from, 0x20, line.end - from) else { return nil }
            let space = base.distance(to: UnsafeRawPointer(hit))
            var k = space - 1
            while k >= first && line.buf[k] == 0x5C { k -= 1 }
            if (space - 1 - k) & 1 == 0 {
                guard space > first else { return nil }
                return (UnsafeRawBufferPointer(start: base + first, count: space - first), space)
            }
            from = space + 1
        }
        return nil
    }

    package func seal(_ p: inout Parsed, db: TSDB) throws -> SampleBatch {
        try p.series.resolve(into: &p.batch, db: db, cache: cache)
        return p.batch
    }
}
