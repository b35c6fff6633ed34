import Foundation
import Primitives
import TSDB

/// A streaming RFC 4180 parser for DCGM CSV exports: quoted and unquoted fields, doubled
/// quotes, CRLF or LF, an optional BOM, and the 12-column header matched by name (any
/// order). Memory stays constant: only an unfinished record is carried between feeds.
///
/// Rows with DCGM's blank sentinels (int64 ≥ 0x7ffffffffffffff0, float ≥ 2^47) are skipped
/// and counted; malformed rows are counted and reported with their line numbers (or stop
/// the parse with `strict`).
///
/// ```swift
/// var parser = DCGMCSVParser()
/// try parser.feed(chunk) { record in print(record.metric, record.value) }
/// try parser.finish { record in … }
/// print(parser.stats.rows, parser.stats.badRows)
/// ```
package struct DCGMCSVParser {
    package static let columns = ["timestamp", "metric_name", "gpu_id", "device", "uuid", "modelName", "Hostname",
                                 "container", "pod", "namespace", "value", "labels_raw"]
    static let required = ["timestamp", "metric_name", "value"]
    /// Values at or above this are DCGM's "blank" (no data) sentinels.
    package static let blankThreshold = 140_737_488_355_328.0  // 2^47

    package let strict: Bool
    package private(set) var stats = DCGMParseStats()

    /// Column index in the file of each of ``columns`` (-1 when absent).
    var map: [Int] = []
    /// Fields a row needs: one past the highest mapped column.
    var needed = 0
    var headerSeen = false
    var pending: [UInt8] = []
    var line = 1
    var fields: [Field] = []
    var started = false

    struct Field {
        var start: Int
        var end: Int
        /// Quoted and containing doubled quotes: needs unescaping.
        var escaped: Bool
    }

    package init(strict: Bool = false) {
        self.strict = strict
        fields.reserveCapacity(16)
    }

    /// Feeds bytes in any chunking; every complete row is passed to `onRow`.
    package mutating func feedRows(_ bytes: UnsafeRawBufferPointer, _ onRow: (borrowing DCGMRow) throws -> Void) throws {
        pending.append(contentsOf: bytes)
        try drain(final: false, onRow)
    }

    /// Parses what is left at the end of the input.
    package mutating func finishRows(_ onRow: (borrowing DCGMRow) throws -> Void) throws {
        try drain(final: true, onRow)
    }

    package mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onRecord: (DCGMRecord) throws -> Void) throws {
        try feedRows(bytes) { try onRecord($0.record()) }
    }

    package mutating func finish(_ onRecord: (DCGMRecord) throws -> Void) throws {
        try finishRows { try onRecord($0.record()) }
    }

    /// Parses an in-memory document (an HTTP body, a broker message).
    package static func parse(_ bytes: [UInt8], strict: Bool = false) throws -> ([DCGMRecord], DCGMParseStats) {
        var parser = DCGMCSVParser(strict: strict)
        var out: [DCGMRecord] = []
        try bytes.withUnsafeBytes { try parser.feed($0) { out.append($0) } }
        try parser.finish { out.append($0) }
        return (out, parser.stats)
    }

    /// Streams a file in 1 MiB reads.
    package static func parseFile(path: String, strict: Bool = false, _ onRecord: (DCGMRecord) throws -> Void) throws -> DCGMParseStats {
        var parser = DCGMCSVParser(strict: strict)
        try Self.readFile(path) { chunk in try parser.feed(chunk, onRecord) }
        try parser.finish(onRecord)
        return parser.stats
    }

    /// Reads a file in 1 MiB chunks (see ``ChunkedFileReader``).
    package static func readFile(_ path: String, chunkSize: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var reader = try ChunkedFileReader(path: path, chunkSize: chunkSize)
        while try reader.next(body) != nil {}
    }

    private mutating func drain(final: Bool, _ onRow: (borrowing DCGMRow) throws -> Void) throws {
        var consumed = 0
        let total = pending.count
        try pending.withUnsafeBytes { buf in
            var i = 0
            if !started {
                if total < 3 && !final { return }
                started = true
                if total >= 3, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF { i = 3 }
                consumed = i
            }
            while i < total {
                let recordLine = line
                guard let next = scanRecord(buf, from: i, final: final) else { break }
                let isBlankLine = fields.count == 1 && fields[0].start == fields[0].end
                i = next
                consumed = next
                if isBlankLine { continue }
                if !headerSeen {
                    try readHeader(buf)
                    continue
                }
                try handleRow(buf, line: recordLine, onRow)
            }
        }
        if consumed > 0 { pending.removeSubrange(0..<consumed) }
        if final, !pending.isEmpty { pending.removeAll() }
    }

    /// Finds the fields of the record starting at `start`; nil when it is not complete yet.
    private mutating func scanRecord(_ p: UnsafeRawBufferPointer, from start: Int, final: Bool) -> Int? {
        fields.removeAll(keepingCapacity: true)
        let n = p.count
        var i = start
        var newlines = 0
        while true {
            if i < n, p[i] == 34 {
                // Quoted field: up to the closing quote that is not doubled (memchr jumps).
                var j = i + 1
                var escaped = false
                var closed = false
                let base = p.baseAddress!
                while j < n {
                    guard let hit = memchr(base + j, 34, n - j) else {
                        for k in j..<n where p[k] == 10 { newlines += 1 }
                        j = n
                        break
                    }
                    let q = base.distance(to: UnsafeRawPointer(hit))
                    for k in j..<q where p[k] == 10 { newlines += 1 }
                    j = q
                    if j + 1 < n, p[j + 1] == 34 { escaped = true; j += 2; continue }
                    if j + 1 >= n, !final { return nil }  // might be the first of a doubled pair
                    closed = true
                    break
                }
                if !closed {
                    guard final else { return nil }
                    fields.append(Field(start: i + 1, end: n, escaped: escaped))
                    line += newlines + 1
                    return n
                }
                fields.append(Field(start: i + 1, end: j, escaped: escaped))
                i = j + 1
                // Tolerate junk between the closing quote and the delimiter by skipping it.
                while i < n, p[i] != 44, p[i] != 10, p[i] != 13 { i += 1 }
            } else {
                let j = Self.findDelimiter(p, from: i)
                fields.append(Field(start: i, end: j, escaped: false))
                i = j
            }
            if i >= n {
                guard final else { return nil }
                line += newlines + 1
                return n
            }
            let c = p[i]
            if c == 44 { i += 1; continue }
            if c == 13 {
                if i + 1 >= n, !final { return nil }
                i += (i + 1 < n && p[i + 1] == 10) ? 2 : 1
            } else {
                i += 1
            }
            line += newlines + 1
            return i
        }
    }

    /// The first `,`, LF or CR at or after `from` (or the end), eight bytes at a time: a
    /// byte equal to `c` makes `(x − 0x01…) & ~x & 0x80…` non-zero where `x = word ^ c…`,
    /// and the lowest set bit is exact.
    @inline(__always)
    static func findDelimiter(_ p: UnsafeRawBufferPointer, from: Int) -> Int {
        let n = p.count
        var j = from
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let base = p.baseAddress!
        while j &+ 8 <= n {
            let w = base.loadUnaligned(fromByteOffset: j, as: UInt64.self).littleEndian
            let a = w ^ (ones &* 0x2C), b = w ^ (ones &* 0x0A), c = w ^ (ones &* 0x0D)
            let m = ((a &- ones) & ~a | (b &- ones) & ~b | (c &- ones) & ~c) & highs
            if m != 0 { return j &+ (m.trailingZeroBitCount &>> 3) }
            j &+= 8
        }
        while j < n {
            let c = p[j]
            if c == 44 || c == 10 || c == 13 { return j }
            j &+= 1
        }
        return n
    }

    private mutating func readHeader(_ p: UnsafeRawBufferPointer) throws {
        var index: [String: Int] = [:]
        for (k, f) in fields.enumerated() {
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: p[f.start..<f.end]), as: UTF8.self)
                .trimmingCharacters(in: .whitespaces)
            if index[name] == nil { index[name] = k }
        }
        let missing = Self.required.filter { index[$0] == nil }
        guard missing.isEmpty else { throw DCGMError.missingColumns(missing) }
        map = Self.columns.map { index[$0] ?? -1 }
        needed = (map.max() ?? 0) + 1
        headerSeen = true
    }

    private mutating func bad(_ line: Int, _ message: String) throws {
        stats.badRows += 1
        if stats.problems.count < DCGMParseStats.maxProblems { stats.problems.append(DCGMParseProblem(line: line, message: message)) }
        if strict { throw DCGMError.strictModeBadRow(line: line, message: message) }
    }

    private mutating func handleRow(_ p: UnsafeRawBufferPointer, line: Int, _ onRow: (borrowing DCGMRow) throws -> Void) throws {
        stats.rows += 1
        guard fields.count >= needed else {
            try bad(line, "expected \(needed) fields, found \(fields.count)")
            return
        }
        let tsField = fields[map[0]]
        guard let ts = RFC3339.parse(UnsafeRawBufferPointer(rebasing: p[tsField.start..<tsField.end])) else {
            try bad(line, "bad timestamp \"\(String(decoding: UnsafeRawBufferPointer(rebasing: p[tsField.start..<tsField.end]), as: UTF8.self))\" (want RFC 3339)")
            return
        }
        let valueField = fields[map[10]]
        guard let value = DecimalParser.parse(UnsafeRawBufferPointer(rebasing: p[valueField.start..<valueField.end])) else {
            try bad(line, "bad value \"\(String(decoding: UnsafeRawBufferPointer(rebasing: p[valueField.start..<valueField.end]), as: UTF8.self))\"")
            return
        }
        let metricField = fields[map[1]]
        guard metricField.end > metricField.start else {
            try bad(line, "empty metric_name")
            return
        }
        if value >= Self.blankThreshold {
            stats.blankSkipped += 1
            return
        }
        stats.samples += 1
        try fields.withUnsafeBufferPointer { f in
            try map.withUnsafeBufferPointer { m in
                try onRow(DCGMRow(buffer: p, fields: f, map: m, line: line, timestamp: ts, value: value))
            }
        }
    }
}
