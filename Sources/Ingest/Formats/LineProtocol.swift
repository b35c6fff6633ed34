#if canImport(Glibc)
import Glibc
#endif
import Primitives
import TSDB

/// Timestamp precision of line protocol, as InfluxDB's `precision` parameter names it
/// (`n`/`ns`, `u`/`us`, `ms`, `s`, and v1's `m`, `h`).
package enum LineProtocolPrecision: String, Sendable, CaseIterable {
    case ns, us, ms, s, m, h

    /// Accepts the spellings of InfluxDB v1 (`n`, `u`, `ms`, `s`, `m`, `h`) and v2 (`ns`, `us`, `ms`, `s`).
    package init?(influx: String) {
        switch influx {
        case "n", "ns", "": self = .ns
        case "u", "us", "µ", "µs": self = .us
        case "ms": self = .ms
        case "s": self = .s
        case "m": self = .m
        case "h": self = .h
        default: return nil
        }
    }

    /// Nanoseconds per unit.
    package var nanos: Int64 {
        switch self {
        case .ns: return 1
        case .us: return 1_000
        case .ms: return 1_000_000
        case .s: return 1_000_000_000
        case .m: return 60_000_000_000
        case .h: return 3_600_000_000_000
        }
    }
}

/// A line that is not valid line protocol; `line` is 1-based, `column` is the 1-based byte
/// offset in that line.
package enum LineProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    case syntax(line: Int, column: Int, message: String)

    package var description: String {
        switch self {
        case .syntax(let line, let column, let message):
            return "line protocol error at line \(line), column \(column): \(message)"
        }
    }
}

/// What a body of line protocol held.
package struct LineProtocolResult: Sendable {
    package var samples: [LabeledSample] = []
    /// Lines with points (comments and blank lines excluded).
    package var lines = 0
    /// String fields, which a Float64 store cannot hold; counted, not stored.
    package var skippedStringFields = 0
    /// Lines refused, in order, when parsing with ``LineProtocolParser/BadLines/skip``.
    package var badLines: [LineProtocolError] = []
}

/// InfluxDB line protocol, parsed straight from bytes:
/// `measurement[,tag=value...] field=value[,field=value...] [timestamp]`.
///
/// Field `value` becomes the metric named after the measurement; any other field `f` becomes
/// `measurement_f`. Tags become labels. Integers (`1i`), unsigned (`1u`), floats and
/// booleans (stored as 1/0) are kept; string fields are counted and skipped. A line without a
/// timestamp gets `now`. A newline inside a quoted string field belongs to its line, as in
/// InfluxDB. By default the body is taken whole or refused whole (the error names the first
/// bad line); with `badLines: .skip` the good lines are kept and the bad ones listed, as
/// InfluxDB 1.x does for a partial write.
///
/// ```swift
/// let r = try LineProtocolParser.parse(Array("gpu,host=a util=42i 1700000000\n".utf8),
///                                      precision: .s, now: 0)
/// r.samples[0].labels.metric   // "gpu_util"
/// ```
package enum LineProtocolParser {
    /// What to do with a line that does not parse.
    package enum BadLines: Sendable {
        /// Refuse the whole body (InfluxDB v2, and our own write API).
        case refuse
        /// Keep the good lines and list the bad ones in ``LineProtocolResult/badLines`` (InfluxDB 1.x).
        case skip
    }

    package static func parse(_ bytes: [UInt8], precision: LineProtocolPrecision = .ns, now: Int64,
                             badLines: BadLines = .refuse) throws(LineProtocolError) -> LineProtocolResult {
        var result = LineProtocolResult()
        var skipped = 0
        let scan = try scanLines(bytes, precision: precision, now: now, badLines: badLines,
                                 skippedStringFields: &skipped) { buf, spans in
            let labels = tagLabels(buf, spans)
            let measurement = LineScanner.unescaped(buf, spans.seriesStart..<spans.measurementEnd)
            for field in spans.fields {
                let key = LineScanner.unescaped(buf, field.keyStart..<field.keyEnd)
                var pairs = labels
                pairs.append(Label(Labels.metricName, key == "value" ? measurement : measurement + "_" + key))
                result.samples.append(LabeledSample(labels: Labels(pairs), timestamp: spans.timestamp, value: field.value))
            }
        }
        result.lines = scan.lines
        result.badLines = scan.badLines
        result.skippedStringFields = skipped
        return result
    }

    /// The series of one field of a scanned line: its tags (less any `__name__` tag) and
    /// `__name__` = the measurement, or `measurement_field` for a field other than `value`.
    static func labels(_ buf: UnsafeBufferPointer<UInt8>, _ spans: LineProtocolSpans, field: LineProtocolField) -> Labels {
        var pairs = tagLabels(buf, spans)
        let measurement = LineScanner.unescaped(buf, spans.seriesStart..<spans.measurementEnd)
        let key = LineScanner.unescaped(buf, field.keyStart..<field.keyEnd)
        pairs.append(Label(Labels.metricName, key == "value" ? measurement : measurement + "_" + key))
        return Labels(pairs)
    }

    /// The tags of a line that ``LineScanner/scan`` accepted.
    private static func tagLabels(_ buf: UnsafeBufferPointer<UInt8>, _ spans: LineProtocolSpans) -> [Label] {
        var labels: [Label] = []
        var s = LineScanner(buf: buf, pos: spans.measurementEnd, end: spans.seriesEnd, lineStart: 0, line: 0)
        while s.pos < s.end && buf[s.pos] == 0x2C {
            s.pos += 1
            let keyAt = s.pos
            s.skipToken { $0 == 0x3D || $0 == 0x2C || $0 == 0x20 }
            let key = LineScanner.unescaped(buf, keyAt..<s.pos)
            s.pos += 1  // '='
            let valueAt = s.pos
            s.skipToken { $0 == 0x2C || $0 == 0x20 }
            if key != Labels.metricName { labels.append(Label(key, LineScanner.unescaped(buf, valueAt..<s.pos))) }
        }
        return labels
    }

    /// Scans every line of `bytes` and hands each good one to `onLine` (its spans point into
    /// the buffer passed along, valid only during the call). Returns how many lines had
    /// points and, with `.skip`, the bad lines; with `.refuse` the first bad line throws.
    ///
    /// `known`, when given, is offered each line first (a scanner at its first byte and the
    /// string-field count): returning true means it took the line whole (it is counted);
    /// false means the line is scanned here, as without it — so `known` must leave the count
    /// as it found it when it declines.
    static func scanLines(_ bytes: [UInt8], precision: LineProtocolPrecision, now: Int64, badLines: BadLines,
                          skippedStringFields: inout Int,
                          known: (LineScanner, inout Int) -> Bool = { _, _ in false },
                          _ onLine: (UnsafeBufferPointer<UInt8>, LineProtocolSpans) -> Void) throws(LineProtocolError) -> (lines: Int, badLines: [LineProtocolError]) {
        var lines = 0
        var bad: [LineProtocolError] = []
        var lineNumber = 0
        var start = 0
        let n = bytes.count
        var spans = LineProtocolSpans()
        spans.fields.reserveCapacity(16)
        try bytes.withUnsafeBufferPointer { (buf: UnsafeBufferPointer<UInt8>) throws(LineProtocolError) in
            while start < n {
                lineNumber += 1
                let (end, quick) = lineEndQuickly(buf, from: start)
                var lineEnd = end
                if lineEnd > start && buf[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                var first = start
                while first < lineEnd && (buf[first] == 0x20 || buf[first] == 0x09) { first += 1 }
                if first < lineEnd && buf[first] != UInt8(ascii: "#") {
                    var line = LineScanner(buf: buf, pos: first, end: lineEnd, lineStart: start, line: lineNumber)
                    if known(line, &skippedStringFields) {
                        lines += 1
                    } else {
                        do throws(LineProtocolError) {
                            try line.scan(precision: precision, now: now, into: &spans, skippedStringFields: &skippedStringFields)
                            lines += 1
                            onLine(buf, spans)
                        } catch {
                            guard badLines == .skip else { throw error }
                            bad.append(error)
                        }
                    }
                }
                // Line numbers count physical lines, so a quoted newline still points the
                // next error at the line an editor shows (none inside a quick line).
                if !quick {
                    var k = start
                    while k < end { if buf[k] == 0x0A { lineNumber += 1 }; k += 1 }
                }
                start = end + 1
            }
        }
        return (lines, bad)
    }

    /// ``lineEnd(_:from:)`` by `memchr` when the line holds no double quote and its newline
    /// is not escaped (then the first newline ends it and none lies inside); `quick` says so.
    @inline(__always)
    static func lineEndQuickly(_ buf: UnsafeBufferPointer<UInt8>, from start: Int) -> (end: Int, quick: Bool) {
        guard let base = buf.baseAddress, start < buf.count else { return (lineEnd(buf, from: start), false) }
        let rest = buf.count - start
        let nl = memchr(base + start, 0x0A, rest).map { UnsafeRawPointer(base).distance(to: UnsafeRawPointer($0)) } ?? buf.count
        if memchr(base + start, 0x22, nl - start) == nil, nl == start || buf[nl - 1] != 0x5C {
            return (nl, true)
        }
        return (lineEnd(buf, from: start), false)
    }

    /// The index of the newline that ends the line starting at `start` (or the end of the
    /// body): newlines inside a double-quoted field value do not end it. Quotes only open a
    /// string in the field set, after the first unescaped space, as in InfluxDB's parser;
    /// a backslash escapes the next byte.
    static func lineEnd(_ buf: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        while i < buf.count && (buf[i] == 0x20 || buf[i] == 0x09) { i += 1 }
        if i < buf.count && buf[i] == UInt8(ascii: "#") {  // a comment ends at its newline
            while i < buf.count && buf[i] != 0x0A { i += 1 }
            return i
        }
        var inFields = false
        var inString = false
        while i < buf.count {
            let b = buf[i]
            if inString {
                if b == 0x5C { i += 2; continue }
                if b == 0x22 { inString = false }
            } else {
                if b == 0x0A { return i }
                if b == 0x5C { i += 2; continue }
                if b == 0x20 { inFields = true } else if b == 0x22 && inFields { inString = true }
            }
            i += 1
        }
        return buf.count
    }
}
