import Hummingbird

/// Appends JSON straight into a byte array: no intermediate dictionaries, no `Codable`, so a
/// response of many thousand samples costs one growing buffer.
///
/// Commas are placed automatically: every value or key after another one in the same
/// container gets one.
///
/// ```swift
/// var w = JSONWriter()
/// w.beginObject(); w.key("count"); w.int(2); w.endObject()   // {"count":2}
/// ```
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

    init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    @inline(__always) private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func string(_ value: String) { separate(); appendQuoted(value); needsComma = true }

    mutating func stringOrNull(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    mutating func null() { separate(); bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]); needsComma = true }

    mutating func bool(_ value: Bool) {
        separate()
        if value { bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65]) } else { bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65]) }
        needsComma = true
    }

    mutating func int(_ value: Int64) { separate(); appendInt(value); needsComma = true }
    mutating func int(_ value: Int) { int(Int64(value)) }

    /// Finite doubles in their shortest round-trip form (integral ones without `.0`); NaN and
    /// infinities, which JSON cannot carry, as `null`.
    mutating func double(_ value: Double) {
        separate()
        if !value.isFinite {
            bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        } else if value == value.rounded(), abs(value) < 9.007_199_254_740_992e15 {
            if value == 0, value.sign == .minus { bytes.append(contentsOf: Array("-0.0".utf8)) } else { appendInt(Int64(value)) }
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
        needsComma = true
    }

    /// A timestamp (ns) as an RFC 3339 string.
    mutating func timestamp(_ nanos: Int64) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        TimestampFormat.appendRFC3339(nanos, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func timestampOrNull(_ nanos: Int64?) {
        if let nanos { timestamp(nanos) } else { null() }
    }

    /// Appends bytes verbatim with no separator handling (a fragment such as `,"k":"v"`
    /// that continues the current object); the next key or value gets its comma as usual.
    mutating func appendRaw(_ fragment: [UInt8]) { bytes.append(contentsOf: fragment); needsComma = true }

    /// Splices already-encoded JSON in as one value.
    mutating func rawValue(_ json: [UInt8]) { separate(); bytes.append(contentsOf: json); needsComma = true }

    private mutating func appendInt(_ value: Int64) {
        if value == 0 { bytes.append(UInt8(ascii: "0")); return }
        var v = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { buf in
            while v > 0 {
                buf[n] = UInt8(truncatingIfNeeded: v % 10) &+ 48
                v /= 10
                n += 1
            }
            for i in stride(from: n - 1, through: 0, by: -1) { bytes.append(buf[i]) }
        }
    }

    private mutating func appendQuoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The finished document as an HTTP response.
    func response(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
