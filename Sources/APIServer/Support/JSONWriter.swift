import Hummingbird
import Primitives

/// Appends JSON straight into a byte buffer: no intermediate dictionaries, no `Codable`, so a
/// response of many thousand samples costs one growing buffer that becomes the response body
/// without a copy. The text of strings, numbers and times is `Primitives`' ``JSONFormat`` and
/// ``RFC3339Formatter`` (NaN and infinities as `null`, times in 3/6/9 fraction digits).
///
/// Commas are placed automatically: every value or key after another one in the same
/// container gets one.
///
/// ```swift
/// var w = JSONWriter()
/// w.beginObject(); w.key("count"); w.int(2); w.endObject()   // {"count":2}
/// ```
struct JSONWriter {
    private(set) var buffer: ByteBuffer
    private var needsComma = false
    private var timestamps = RFC3339Formatter()

    init(capacity: Int = 1024) { buffer = ByteBufferAllocator().buffer(capacity: capacity) }

    /// The document so far.
    var bytes: [UInt8] { Array(buffer.readableBytesView) }

    @inline(__always) private mutating func byte(_ b: UInt8) { buffer.writeInteger(b) }

    @inline(__always) private mutating func separate() {
        if needsComma { byte(UInt8(ascii: ",")) }
    }

    mutating func beginObject() { separate(); byte(UInt8(ascii: "{")); needsComma = false }
    mutating func endObject() { byte(UInt8(ascii: "}")); needsComma = true }
    mutating func beginArray() { separate(); byte(UInt8(ascii: "[")); needsComma = false }
    mutating func endArray() { byte(UInt8(ascii: "]")); needsComma = true }

    mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        byte(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func string(_ value: String) { separate(); appendQuoted(value); needsComma = true }

    mutating func stringOrNull(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    mutating func null() { separate(); buffer.writeStaticString("null"); needsComma = true }

    mutating func bool(_ value: Bool) {
        separate()
        buffer.writeStaticString(value ? "true" : "false")
        needsComma = true
    }

    mutating func int(_ value: Int64) {
        separate()
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 20) { JSONFormat.writeInt(value, to: $0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        needsComma = true
    }
    mutating func int(_ value: Int) { int(Int64(value)) }

    /// Finite doubles in their shortest round-trip form (integral ones without `.0`); NaN and
    /// infinities, which JSON cannot carry, as `null`.
    mutating func double(_ value: Double) {
        separate()
        let text = JSONFormat.nonIntegralText(value)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 24 + (text?.utf8.count ?? 0)) {
            JSONFormat.writeValue(value, text: text, to: $0.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        needsComma = true
    }

    /// `[v0/divisor,v1/divisor,…]` in one reservation: a query's timestamp column (ns, or
    /// `divisor` 1,000,000 for ms) written without a capacity check and comma flag per element.
    mutating func intArray(_ values: [Int64], divisor: Int64 = 1) {
        separate()
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: values.count * (JSONFormat.maxIntegralLength + 1) + 2) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var n = 0
            p[n] = UInt8(ascii: "["); n += 1
            for (i, v) in values.enumerated() {
                if i > 0 { p[n] = UInt8(ascii: ","); n += 1 }
                n += JSONFormat.writeInt(divisor == 1 ? v : v / divisor, to: p + n)
            }
            p[n] = UInt8(ascii: "]"); n += 1
            return n
        }
        needsComma = true
    }

    /// `[…]` of ``double(_:)`` values in one reservation per run of integral values (the
    /// shortest text of a non-integral one is only known once formatted).
    mutating func doubleArray(_ values: [Double]) {
        beginArray()
        var i = 0
        while i < values.count {
            guard JSONFormat.writesItself(values[i]) else {
                double(values[i])
                i += 1
                continue
            }
            var end = i + 1
            while end < values.count, JSONFormat.writesItself(values[end]), end - i < 4096 { end += 1 }
            let comma = needsComma
            let start = i
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: (end - start) * (JSONFormat.maxIntegralLength + 1)) { raw in
                let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                var n = 0
                for k in start..<end {
                    if k > start || comma { p[n] = UInt8(ascii: ","); n += 1 }
                    n += JSONFormat.writeNumber(values[k], to: p + n)
                }
                return n
            }
            needsComma = true
            i = end
        }
        endArray()
    }

    /// A timestamp (ns) as an RFC 3339 string.
    mutating func timestamp(_ nanos: Int64) {
        separate()
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: RFC3339Formatter.maxLength + 2) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            p[0] = UInt8(ascii: "\"")
            let n = timestamps.write(nanos, to: p + 1)
            p[n + 1] = UInt8(ascii: "\"")
            return n + 2
        }
        needsComma = true
    }

    mutating func timestampOrNull(_ nanos: Int64?) {
        if let nanos { timestamp(nanos) } else { null() }
    }

    /// Appends one object of a long array in a single write: `{"<timeKey>":"<time>",
    /// "<valueKey>":<value>` followed by `fragment` (already-encoded further fields, starting
    /// with a comma) and `}`. Pages of thousands of samples are written this way.
    mutating func sampleObject(timeKey: StaticString, _ nanos: Int64, valueKey: StaticString, _ value: Double, fragment: [UInt8]) {
        let text = JSONFormat.nonIntegralText(value)
        let room = 16 + timeKey.utf8CodeUnitCount + valueKey.utf8CodeUnitCount + RFC3339Formatter.maxLength + 24
            + (text?.utf8.count ?? 0) + fragment.count
        let comma = needsComma
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var n = 0
            if comma { p[n] = UInt8(ascii: ","); n += 1 }
            p[n] = UInt8(ascii: "{"); n += 1
            n += Self.copyKey(timeKey, to: p + n)
            p[n] = UInt8(ascii: "\""); n += 1
            n += timestamps.write(nanos, to: p + n)
            p[n] = UInt8(ascii: "\""); n += 1
            p[n] = UInt8(ascii: ","); n += 1
            n += Self.copyKey(valueKey, to: p + n)
            n += JSONFormat.writeValue(value, text: text, to: p + n)
            fragment.withUnsafeBufferPointer { f in
                if let base = f.baseAddress { (p + n).update(from: base, count: f.count) }
            }
            n += fragment.count
            p[n] = UInt8(ascii: "}"); n += 1
            return n
        }
        needsComma = true
    }

    /// `[value,integer]` in a single write: a Grafana datapoint (value, milliseconds).
    mutating func pair(_ value: Double, _ integer: Int64) {
        let text = JSONFormat.nonIntegralText(value)
        let comma = needsComma
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 48 + (text?.utf8.count ?? 0)) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var n = 0
            if comma { p[n] = UInt8(ascii: ","); n += 1 }
            p[n] = UInt8(ascii: "["); n += 1
            n += JSONFormat.writeValue(value, text: text, to: p + n)
            p[n] = UInt8(ascii: ","); n += 1
            n += JSONFormat.writeInt(integer, to: p + n)
            p[n] = UInt8(ascii: "]"); n += 1
            return n
        }
        needsComma = true
    }

    /// `"key":` for a static key that needs no escaping.
    @inline(__always) private static func copyKey(_ key: StaticString, to p: UnsafeMutablePointer<UInt8>) -> Int {
        p[0] = UInt8(ascii: "\"")
        (p + 1).update(from: key.utf8Start, count: key.utf8CodeUnitCount)
        p[key.utf8CodeUnitCount + 1] = UInt8(ascii: "\"")
        p[key.utf8CodeUnitCount + 2] = UInt8(ascii: ":")
        return key.utf8CodeUnitCount + 3
    }

    private mutating func appendQuoted(_ text: String) {
        var text = text
        let clean = text.withUTF8 { !JSONFormat.needsEscaping($0) }
        if clean {
            // The common case: one write of the quoted bytes.
            _ = text.withUTF8 { u in
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: u.count + 2) { raw in
                    let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    p[0] = UInt8(ascii: "\"")
                    if let base = u.baseAddress { (p + 1).update(from: base, count: u.count) }
                    p[u.count + 1] = UInt8(ascii: "\"")
                    return u.count + 2
                }
            }
            return
        }
        _ = text.withUTF8 { u in
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: JSONFormat.quotedCapacity(u.count)) { raw in
                JSONFormat.writeQuoted(u, to: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
    }

    /// The finished document as an HTTP response (the buffer itself, not a copy).
    func response(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: buffer))
    }

    /// `{"status":"<status>"}`: what the health, readiness and Grafana probes answer.
    static func statusResponse(_ status: String) -> Response {
        var w = JSONWriter()
        w.beginObject(); w.key("status"); w.string(status); w.endObject()
        return w.response()
    }
}
