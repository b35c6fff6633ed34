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
        var lineNumber = 0
        var start = 0
        let n = bytes.count
        try bytes.withUnsafeBufferPointer { (buf: UnsafeBufferPointer<UInt8>) throws(LineProtocolError) in
            while start < n {
                lineNumber += 1
                let end = lineEnd(buf, from: start)
                var lineEnd = end
                if lineEnd > start && buf[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                var first = start
                while first < lineEnd && (buf[first] == 0x20 || buf[first] == 0x09) { first += 1 }
                if first < lineEnd && buf[first] != UInt8(ascii: "#") {
                    var line = LineScanner(buf: buf, pos: first, end: lineEnd, lineStart: start, line: lineNumber)
                    do throws(LineProtocolError) {
                        try line.parse(precision: precision, now: now, into: &result)
                        result.lines += 1
                    } catch {
                        guard badLines == .skip else { throw error }
                        result.badLines.append(error)
                    }
                }
                // Line numbers count physical lines, so a quoted newline still points the
                // next error at the line an editor shows.
                var k = start
                while k < end { if buf[k] == 0x0A { lineNumber += 1 }; k += 1 }
                start = end + 1
            }
        }
        return result
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

/// Scans one line; positions index into the whole body.
private struct LineScanner {
    let buf: UnsafeBufferPointer<UInt8>
    var pos: Int
    let end: Int
    let lineStart: Int
    let line: Int

    func fail(_ message: String, at position: Int? = nil) -> LineProtocolError {
        .syntax(line: line, column: (position ?? pos) - lineStart + 1, message: message)
    }

    /// Reads up to an unescaped byte of `stops`, undoing backslash escapes of `escapable`.
    mutating func token(stops: (UInt8) -> Bool) -> String {
        var out: [UInt8] = []
        while pos < end {
            let b = buf[pos]
            if b == 0x5C, pos + 1 < end {  // backslash
                let next = buf[pos + 1]
                if next == 0x2C || next == 0x3D || next == 0x20 || next == 0x5C {
                    out.append(next); pos += 2; continue
                }
            }
            if stops(b) { break }
            out.append(b)
            pos += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func parse(precision: LineProtocolPrecision, now: Int64, into result: inout LineProtocolResult) throws(LineProtocolError) {
        let measurementStart = pos
        let measurement = token { $0 == 0x2C || $0 == 0x20 }
        guard !measurement.isEmpty else { throw fail("missing measurement name", at: measurementStart) }
        var labels: [Label] = []
        while pos < end && buf[pos] == 0x2C {
            pos += 1
            let keyAt = pos
            let key = token { $0 == 0x3D || $0 == 0x2C || $0 == 0x20 }
            guard !key.isEmpty else { throw fail("empty tag key", at: keyAt) }
            guard pos < end, buf[pos] == 0x3D else { throw fail("tag \"\(key)\" has no '=value'") }
            pos += 1
            let valueAt = pos
            let value = token { $0 == 0x2C || $0 == 0x20 }
            guard !value.isEmpty else { throw fail("tag \"\(key)\" has an empty value", at: valueAt) }
            if key != Labels.metricName { labels.append(Label(key, value)) }
        }
        guard pos < end, buf[pos] == 0x20 else { throw fail("missing fields after the measurement and tags") }
        while pos < end && buf[pos] == 0x20 { pos += 1 }
        var fields: [(String, Double)] = []
        var sawField = false
        repeat {
            if sawField { pos += 1 }  // the comma
            let keyAt = pos
            let key = token { $0 == 0x3D || $0 == 0x2C || $0 == 0x20 }
            guard !key.isEmpty else { throw fail("empty field key", at: keyAt) }
            guard pos < end, buf[pos] == 0x3D else { throw fail("field \"\(key)\" has no '=value'") }
            pos += 1
            if let value = try fieldValue(key) { fields.append((key, value)) } else { result.skippedStringFields += 1 }
            sawField = true
        } while pos < end && buf[pos] == 0x2C
        var timestamp = now
        if pos < end {
            guard buf[pos] == 0x20 else { throw fail("unexpected byte after the fields; expected a space and a timestamp") }
            while pos < end && buf[pos] == 0x20 { pos += 1 }
            if pos < end { timestamp = try readTimestamp(precision) }
            while pos < end && (buf[pos] == 0x20 || buf[pos] == 0x09) { pos += 1 }
            guard pos == end else { throw fail("unexpected text after the timestamp") }
        }
        for (field, value) in fields {
            let name = field == "value" ? measurement : measurement + "_" + field
            var pairs = labels
            pairs.append(Label(Labels.metricName, name))
            result.samples.append(LabeledSample(labels: Labels(pairs), timestamp: timestamp, value: value))
        }
    }

    /// nil for a string field.
    mutating func fieldValue(_ key: String) throws(LineProtocolError) -> Double? {
        guard pos < end else { throw fail("field \"\(key)\" has no value") }
        let valueStart = pos
        if buf[pos] == 0x22 {  // string: skip to the closing quote
            pos += 1
            while pos < end {
                if buf[pos] == 0x5C { pos += 2; continue }
                if buf[pos] == 0x22 { pos += 1; return nil }
                pos += 1
            }
            throw fail("unterminated string value of field \"\(key)\"", at: valueStart)
        }
        while pos < end && buf[pos] != 0x2C && buf[pos] != 0x20 { pos += 1 }
        let raw = UnsafeBufferPointer(rebasing: buf[valueStart..<pos])
        guard let last = raw.last else { throw fail("field \"\(key)\" has no value", at: valueStart) }
        switch String(decoding: raw, as: UTF8.self) {
        case "t", "T", "true", "True", "TRUE": return 1
        case "f", "F", "false", "False", "FALSE": return 0
        default: break
        }
        if last == UInt8(ascii: "i") || last == UInt8(ascii: "u") {
            let digits = UnsafeBufferPointer(rebasing: raw[0..<(raw.count - 1)])
            guard let v = parseInteger(digits, allowSign: last == UInt8(ascii: "i")) else {
                throw fail("field \"\(key)\" is not a valid \(last == UInt8(ascii: "i") ? "integer" : "unsigned integer")", at: valueStart)
            }
            return v
        }
        guard let v = parseFloat(raw) else {
            throw fail("field \"\(key)\" has an invalid value \"\(String(decoding: raw, as: UTF8.self))\"", at: valueStart)
        }
        return v
    }

    mutating func readTimestamp(_ precision: LineProtocolPrecision) throws(LineProtocolError) -> Int64 {
        let tsStart = pos
        var negative = false
        if buf[pos] == UInt8(ascii: "-") { negative = true; pos += 1 }
        var value: Int64 = 0
        var digits = 0
        while pos < end, buf[pos] >= 0x30, buf[pos] <= 0x39 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(buf[pos] - 0x30))
            if o1 || o2 { throw fail("timestamp out of range", at: tsStart) }
            value = a
            digits += 1
            pos += 1
        }
        guard digits > 0 else { throw fail("invalid timestamp; expected an integer", at: tsStart) }
        if negative { value = -value }
        let (scaled, overflow) = value.multipliedReportingOverflow(by: precision.nanos)
        if overflow { throw fail("timestamp \(value) at precision \(precision.rawValue) is out of range", at: tsStart) }
        return scaled
    }
}

private func parseInteger(_ raw: UnsafeBufferPointer<UInt8>, allowSign: Bool) -> Double? {
    var i = 0
    var negative = false
    if allowSign, i < raw.count, raw[i] == UInt8(ascii: "-") { negative = true; i += 1 }
    guard i < raw.count else { return nil }
    var value: UInt64 = 0
    while i < raw.count {
        let b = raw[i]
        guard b >= 0x30, b <= 0x39 else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(UInt64(b - 0x30))
        if o1 || o2 { return nil }
        value = a
        i += 1
    }
    if negative { return value > UInt64(Int64.max) + 1 ? nil : -Double(value) }
    return Double(value)
}

/// Strict decimal float: optional sign, digits with optional fraction, optional exponent.
private func parseFloat(_ raw: UnsafeBufferPointer<UInt8>) -> Double? {
    var i = 0
    if i < raw.count, raw[i] == UInt8(ascii: "-") || raw[i] == UInt8(ascii: "+") { i += 1 }
    var sawDigit = false
    while i < raw.count, raw[i] >= 0x30, raw[i] <= 0x39 { i += 1; sawDigit = true }
    if i < raw.count, raw[i] == UInt8(ascii: ".") {
        i += 1
        while i < raw.count, raw[i] >= 0x30, raw[i] <= 0x39 { i += 1; sawDigit = true }
    }
    guard sawDigit else { return nil }
    if i < raw.count, raw[i] == UInt8(ascii: "e") || raw[i] == UInt8(ascii: "E") {
        i += 1
        if i < raw.count, raw[i] == UInt8(ascii: "-") || raw[i] == UInt8(ascii: "+") { i += 1 }
        var expDigit = false
        while i < raw.count, raw[i] >= 0x30, raw[i] <= 0x39 { i += 1; expDigit = true }
        guard expDigit else { return nil }
    }
    guard i == raw.count else { return nil }
    return Double(String(decoding: raw, as: UTF8.self))
}
