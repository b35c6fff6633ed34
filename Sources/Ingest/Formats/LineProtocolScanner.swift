/// One field of a scanned line: where its key lies in the body and its numeric value.
struct LineProtocolField {
    var keyStart: Int
    var keyEnd: Int
    var value: Double
}

/// A scanned line as positions into the body: nothing is copied and no `String` is built
/// unless the line is bad (for its error message) or its series is new (for its labels).
struct LineProtocolSpans {
    /// The measurement and tag set, `measurement[,tag=value...]`, as written (escapes kept):
    /// the raw label bytes a series is cached by.
    var seriesStart = 0
    var measurementEnd = 0
    var seriesEnd = 0
    /// Numeric fields in order; string fields are counted, not kept. Reused line to line.
    var fields: [LineProtocolField] = []
    var timestamp: Int64 = 0
}

/// Scans one line; positions index into the whole body.
struct LineScanner {
    let buf: UnsafeBufferPointer<UInt8>
    var pos: Int
    let end: Int
    let lineStart: Int
    let line: Int

    func fail(_ message: String, at position: Int? = nil) -> LineProtocolError {
        .syntax(line: line, column: (position ?? pos) - lineStart + 1, message: message)
    }

    /// Advances past a token: up to an unescaped byte of `stops`; a backslash before
    /// `,`, `=`, space or backslash escapes it.
    @inline(__always)
    mutating func skipToken(stops: (UInt8) -> Bool) {
        while pos < end {
            let b = buf[pos]
            if b == 0x5C, pos + 1 < end {
                let next = buf[pos + 1]
                if next == 0x2C || next == 0x3D || next == 0x20 || next == 0x5C { pos += 2; continue }
            }
            if stops(b) { break }
            pos += 1
        }
    }

    /// The token in `range` with its backslash escapes undone (what ``skipToken(stops:)`` passed over).
    static func unescaped(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var i = range.lowerBound
        while i < range.upperBound {
            let b = buf[i]
            if b == 0x5C, i + 1 < range.upperBound {
                let next = buf[i + 1]
                if next == 0x2C || next == 0x3D || next == 0x20 || next == 0x5C { out.append(next); i += 2; continue }
            }
            out.append(b)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    func text(_ range: Range<Int>) -> String { Self.unescaped(buf, range) }

    /// Checks the line and fills `spans`; string fields are added to `skippedStringFields`
    /// as they are met (also on a line that turns out bad, as before).
    mutating func scan(precision: LineProtocolPrecision, now: Int64, into spans: inout LineProtocolSpans,
                       skippedStringFields: inout Int) throws(LineProtocolError) {
        spans.fields.removeAll(keepingCapacity: true)
        spans.seriesStart = pos
        skipToken { $0 == 0x2C || $0 == 0x20 }
        guard pos > spans.seriesStart else { throw fail("missing measurement name", at: spans.seriesStart) }
        spans.measurementEnd = pos
        while pos < end && buf[pos] == 0x2C {
            pos += 1
            let keyAt = pos
            skipToken { $0 == 0x3D || $0 == 0x2C || $0 == 0x20 }
            let key = keyAt..<pos
            guard !key.isEmpty else { throw fail("empty tag key", at: keyAt) }
            guard pos < end, buf[pos] == 0x3D else { throw fail("tag \"\(text(key))\" has no '=value'") }
            pos += 1
            let valueAt = pos
            skipToken { $0 == 0x2C || $0 == 0x20 }
            guard pos > valueAt else { throw fail("tag \"\(text(key))\" has an empty value", at: valueAt) }
        }
        spans.seriesEnd = pos
        try scanFields(precision: precision, now: now, into: &spans, skippedStringFields: &skippedStringFields)
    }

    /// The field set and timestamp, from `pos` on the space after the measurement and tags:
    /// fills `spans.fields` and `spans.timestamp`, leaves the series positions alone.
    mutating func scanFields(precision: LineProtocolPrecision, now: Int64, into spans: inout LineProtocolSpans,
                             skippedStringFields: inout Int) throws(LineProtocolError) {
        guard pos < end, buf[pos] == 0x20 else { throw fail("missing fields after the measurement and tags") }
        while pos < end && buf[pos] == 0x20 { pos += 1 }
        var sawField = false
        repeat {
            if sawField { pos += 1 }  // the comma
            let keyAt = pos
            skipToken { $0 == 0x3D || $0 == 0x2C || $0 == 0x20 }
            let key = keyAt..<pos
            guard !key.isEmpty else { throw fail("empty field key", at: keyAt) }
            guard pos < end, buf[pos] == 0x3D else { throw fail("field \"\(text(key))\" has no '=value'") }
            pos += 1
            if let value = try fieldValue(key) {
                spans.fields.append(LineProtocolField(keyStart: key.lowerBound, keyEnd: key.upperBound, value: value))
            } else {
                skippedStringFields += 1
            }
            sawField = true
        } while pos < end && buf[pos] == 0x2C
        spans.timestamp = now
        if pos < end {
            guard buf[pos] == 0x20 else { throw fail("unexpected byte after the fields; expected a space and a timestamp") }
            while pos < end && buf[pos] == 0x20 { pos += 1 }
            if pos < end { spans.timestamp = try readTimestamp(precision) }
            while pos < end && (buf[pos] == 0x20 || buf[pos] == 0x09) { pos += 1 }
            guard pos == end else { throw fail("unexpected text after the timestamp") }
        }
    }

    /// nil for a string field.
    mutating func fieldValue(_ key: Range<Int>) throws(LineProtocolError) -> Double? {
        guard pos < end else { throw fail("field \"\(text(key))\" has no value") }
        let valueStart = pos
        if buf[pos] == 0x22 {  // string: skip to the closing quote
            pos += 1
            while pos < end {
                if buf[pos] == 0x5C { pos += 2; continue }
                if buf[pos] == 0x22 { pos += 1; return nil }
                pos += 1
            }
            throw fail("unterminated string value of field \"\(text(key))\"", at: valueStart)
        }
        while pos < end && buf[pos] != 0x2C && buf[pos] != 0x20 { pos += 1 }
        let raw = UnsafeBufferPointer(rebasing: buf[valueStart..<pos])
        guard let last = raw.last else { throw fail("field \"\(text(key))\" has no value", at: valueStart) }
        if let b = parseBoolean(raw) { return b }
        if last == UInt8(ascii: "i") || last == UInt8(ascii: "u") {
            let digits = UnsafeBufferPointer(rebasing: raw[0..<(raw.count - 1)])
            guard let v = parseInteger(digits, allowSign: last == UInt8(ascii: "i")) else {
                throw fail("field \"\(text(key))\" is not a valid \(last == UInt8(ascii: "i") ? "integer" : "unsigned integer")", at: valueStart)
            }
            return v
        }
        guard let v = parseFloat(raw) else {
            throw fail("field \"\(text(key))\" has an invalid value \"\(String(decoding: raw, as: UTF8.self))\"", at: valueStart)
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

/// `t`, `T`, `true`, `True`, `TRUE` as 1 and the `f` spellings as 0, compared in place.
private func parseBoolean(_ raw: UnsafeBufferPointer<UInt8>) -> Double? {
    func equals(_ s: StaticString) -> Bool {
        guard raw.count == s.utf8CodeUnitCount else { return false }
        let p = s.utf8Start
        for k in 0..<raw.count where raw[k] != p[k] { return false }
        return true
    }
    guard let first = raw.first else { return nil }
    switch first {
    case UInt8(ascii: "t"), UInt8(ascii: "T"):
        return raw.count == 1 || equals("true") || equals("True") || equals("TRUE") ? 1 : nil
    case UInt8(ascii: "f"), UInt8(ascii: "F"):
        return raw.count == 1 || equals("false") || equals("False") || equals("FALSE") ? 0 : nil
    default:
        return nil
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

/// Strict decimal float: optional sign, digits with optional fraction, optional exponent
/// (no `nan`, `inf` or hex); the value comes from ``DecimalParser`` (correctly rounded).
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
    return DecimalParser.parse(UnsafeRawBufferPointer(raw)) ?? Double(String(decoding: raw, as: UTF8.self))
}
