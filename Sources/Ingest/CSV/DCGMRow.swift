import Foundation
import Primitives
import TSDB

/// A parsed row borrowed from the parser's buffer; valid only inside the callback. The
/// batch builder uses the series key to find a known series without building strings; the rest
/// materialise a ``DCGMRecord``.
package struct DCGMRow: ~Copyable {
    let buffer: UnsafeRawBufferPointer
    let fields: UnsafeBufferPointer<DCGMCSVParser.Field>
    let map: UnsafeBufferPointer<Int>
    package let line: Int
    package let timestamp: Int64
    package let value: Double

    init(buffer: UnsafeRawBufferPointer, fields: UnsafeBufferPointer<DCGMCSVParser.Field>, map: UnsafeBufferPointer<Int>,
         line: Int, timestamp: Int64, value: Double) {
        self.buffer = buffer
        self.fields = fields
        self.map = map
        self.line = line
        self.timestamp = timestamp
        self.value = value
    }

    /// Raw bytes of column `k` of ``DCGMCSVParser/columns`` (still CSV-escaped when quoted
    /// with doubled quotes); empty when the column is absent.
    func raw(_ k: Int) -> UnsafeRawBufferPointer {
        let idx = map[k]
        guard idx >= 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let f = fields[idx]
        return UnsafeRawBufferPointer(rebasing: buffer[f.start..<f.end])
    }

    /// The record's bytes without its timestamp and value fields, as up to three ranges:
    /// the bytes that identify the series as it is written (no strings built).
    private var keyRanges: (Range<Int>, Range<Int>, Range<Int>) {
        let t = fields[map[0]], v = fields[map[10]]
        let first = t.start < v.start ? t : v, second = t.start < v.start ? v : t
        let recordStart = fields[0].start, recordEnd = fields[fields.count - 1].end
        return (recordStart..<first.start, first.end..<second.start, second.end..<max(second.end, recordEnd))
    }

    /// Whether this row's header maps the columns as `map` does (see ``columnMap()``).
    func hasMap(_ map: [Int]) -> Bool {
        guard map.count == self.map.count else { return false }
        for k in 0..<map.count where map[k] != self.map[k] { return false }
        return true
    }

    /// Where the header put each of ``DCGMCSVParser/columns`` (-1: absent).
    func columnMap() -> [Int] { Array(map) }

    /// xxHash64 of the series key (see ``seriesKeyBytes(tag:)``).
    func seriesKeyHash(tag: UInt32) -> UInt64 {
        let (a, b, c) = keyRanges
        var h = XXHash64.hash(UnsafeRawBufferPointer(rebasing: buffer[a]), seed: UInt64(tag))
        h = XXHash64.hash(UnsafeRawBufferPointer(rebasing: buffer[b]), seed: h)
        return XXHash64.hash(UnsafeRawBufferPointer(rebasing: buffer[c]), seed: h)
    }

    /// The series key: `tag` (the header's column order, as ``DCGMBatchBuilder`` numbers it;
    /// 4 bytes little-endian), then the record's bytes without its timestamp and value, with
    /// a 0xFF between the pieces. The same bytes under another header are another key.
    func seriesKeyBytes(tag: UInt32) -> [UInt8] {
        let (a, b, c) = keyRanges
        var out: [UInt8] = []
        out.reserveCapacity(4 + a.count + b.count + c.count + 2)
        withUnsafeBytes(of: tag.littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[a]))
        out.append(0xFF)
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[b]))
        out.append(0xFF)
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[c]))
        return out
    }

    /// Whether `key` is this row's ``seriesKeyBytes(tag:)`` (compared in place).
    func seriesKeyEquals(_ key: [UInt8], tag: UInt32) -> Bool {
        let (a, b, c) = keyRanges
        guard key.count == 4 + a.count + b.count + c.count + 2 else { return false }
        return key.withUnsafeBytes { k in
            guard let kb = k.baseAddress, let bb = buffer.baseAddress else { return false }
            guard kb.loadUnaligned(as: UInt32.self) == tag.littleEndian else { return false }
            let r = kb + 4
            return memcmp(r, bb + a.lowerBound, a.count) == 0 && k[4 + a.count] == 0xFF
                && memcmp(r + a.count + 1, bb + b.lowerBound, b.count) == 0 && k[4 + a.count + 1 + b.count] == 0xFF
                && memcmp(r + a.count + b.count + 2, bb + c.lowerBound, c.count) == 0
        }
    }

    func string(_ k: Int) -> String {
        let idx = map[k]
        guard idx >= 0 else { return "" }
        let f = fields[idx]
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[f.start..<f.end])
        guard f.escaped else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            out.append(bytes[i])
            i += (bytes[i] == 34 && i + 1 < bytes.count && bytes[i + 1] == 34) ? 2 : 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The series labels (DESIGN.md "Data model").
    package func labels() -> Labels {
        // The field's text with the CSV's doubled quotes undone, then the one labels_raw
        // parser: read straight from a quoted field's bytes, a quote doubled outside a
        // quoted value (in a name, or a bare value) was kept as two.
        let lr = map[11] >= 0 ? LabelsRaw.parse(string(11)) : []
        return DCGMRecord.makeLabels(metric: string(1), gpuID: string(2), device: string(3), uuid: string(4),
                                     modelName: string(5), hostname: string(6), container: string(7), pod: string(8),
                                     namespace: string(9), extra: lr)
    }

    package func record() -> DCGMRecord {
        var r = DCGMRecord(timestamp: timestamp, metric: string(1), gpuID: string(2), device: string(3), uuid: string(4),
                           modelName: string(5), hostname: string(6), container: string(7), pod: string(8),
                           namespace: string(9), value: value, labelsRaw: "")
        r.labelsRaw = string(11)
        r.labels = labels()
        return r
    }
}
