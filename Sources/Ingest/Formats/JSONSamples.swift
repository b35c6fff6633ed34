import Primitives
import TSDB

/// A JSON body that is not a valid sample document; `line`/`column` are 1-based.
package enum JSONSampleError: Error, Sendable, Equatable, CustomStringConvertible {
    case syntax(line: Int, column: Int, message: String)
    /// Sample `index` (0-based, in document order) starting at `line` is not a valid sample.
    case invalidSample(index: Int, line: Int, message: String)

    package var description: String {
        switch self {
        case .syntax(let line, let column, let message):
            return "invalid JSON at line \(line), column \(column): \(message)"
        case .invalidSample(let index, let line, let message):
            return "sample \(index) (line \(line)): \(message)"
        }
    }
}

/// Samples as JSON: one object, an array of objects, or NDJSON (one object per line).
///
/// The object shape is the original service's: `metric` (or `metric_name`), `value` (number
/// or numeric string), `time` (or `timestamp`; RFC 3339 or epoch s/ms/µs/ns by magnitude;
/// absent means now), and the DCGM fields `gpu_id`, `uuid`, `device_id` (or `device`),
/// `model_name`, `hostname`, `container`, `pod`, `namespace`, `labels_raw`, plus an optional
/// `labels` object. They map to the labels of a DCGM row (`gpu`, `UUID`, `device`,
/// `modelName`, `Hostname`, …; `labels_raw` pairs first, the named fields win).
///
/// ```swift
/// let s = try JSONSamples.decode(Array(#"{"metric":"DCGM_FI_DEV_GPU_UTIL","value":7,"uuid":"GPU-1"}"#.utf8), now: 0)
/// ```
package enum JSONSamples {
    /// Decodes one object or an array of objects.
    package static func decode(_ bytes: [UInt8], now: Int64) throws(JSONSampleError) -> [LabeledSample] {
        var reader = JSONReader(bytes)
        let value = try reader.readDocument()
        var out: [LabeledSample] = []
        switch value.value {
        case .array(let items):
            out.reserveCapacity(items.count)
            for (i, item) in items.enumerated() { out.append(try sample(item, index: i, now: now)) }
        case .object:
            out.append(try sample(value, index: 0, now: now))
        default:
            throw .invalidSample(index: 0, line: value.line, message: "expected an object or an array of objects")
        }
        return out
    }

    /// Decodes NDJSON: one object (or array of objects) per non-blank line.
    package static func decodeNDJSON(_ bytes: [UInt8], now: Int64) throws(JSONSampleError) -> [LabeledSample] {
        var out: [LabeledSample] = []
        var start = 0
        var line = 0
        var index = 0
        while start < bytes.count {
            line += 1
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            let slice = Array(bytes[start..<end])
            if slice.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                var reader = JSONReader(slice, firstLine: line)
                let value = try reader.readDocument()
                let items: [Located]
                if case .array(let a) = value.value { items = a } else { items = [value] }
                for item in items {
                    out.append(try sample(item, index: index, now: now))
                    index += 1
                }
            }
            start = end + 1
        }
        return out
    }

    static let fieldLabels: [(String, String)] = [
        ("gpu_id", InventoryLabel.gpu), ("gpu", InventoryLabel.gpu),
        ("uuid", InventoryLabel.uuid), ("UUID", InventoryLabel.uuid),
        ("device_id", InventoryLabel.device), ("device", InventoryLabel.device),
        ("model_name", InventoryLabel.model), ("modelName", InventoryLabel.model),
        ("hostname", InventoryLabel.hostname), ("Hostname", InventoryLabel.hostname),
        ("container", InventoryLabel.container), ("pod", InventoryLabel.pod), ("namespace", InventoryLabel.namespace),
    ]

    static func sample(_ item: Located, index: Int, now: Int64) throws(JSONSampleError) -> LabeledSample {
        func bad(_ m: String) -> JSONSampleError { .invalidSample(index: index, line: item.line, message: m) }
        guard case .object(let fields) = item.value else { throw bad("expected an object") }
        var dict: [String: JSONValue] = [:]
        for (k, v) in fields { dict[k] = v.value }
        guard let metricValue = dict["metric"] ?? dict["metric_name"] ?? dict["name"] ?? dict[Labels.metricName],
              case .string(let metric) = metricValue, !metric.isEmpty
        else { throw bad("missing \"metric\" (a non-empty string)") }
        let value: Double
        switch dict["value"] {
        case .number(let d)?: value = d
        case .integer(let i)?: value = Double(i)
        case .string(let s)?:
            guard let d = Double(s.trimmingWhitespace()) else { throw bad("\"value\" \"\(s)\" is not a number") }
            value = d
        case .bool(let b)?: value = b ? 1 : 0
        default: throw bad("missing \"value\" (a number)")
        }
        var timestamp = now
        switch dict["time"] ?? dict["timestamp"] {
        case nil, .null?: break
        case .string(let s)?:
            if let t = RFC3339.parse(s) { timestamp = t }
            else if let t = Epoch.parse(s) { timestamp = t }
            else { throw bad("\"time\" \"\(s)\" is neither RFC 3339 nor an epoch number") }
        case .integer(let i)?:
            guard let t = Epoch.nanos(fromInteger: i) else { throw bad("\"time\" \(i) is out of range") }
            timestamp = t
        case .number(let d)?:
            guard let t = Epoch.nanos(fromSeconds: d) else { throw bad("\"time\" \(d) is out of range") }
            timestamp = t
        default: throw bad("\"time\" must be an RFC 3339 string or an epoch number")
        }
        var pairs: [Label] = []
        if case .string(let raw)? = dict["labels_raw"], !raw.isEmpty {
            pairs.append(contentsOf: LabelsRaw.parse(raw))
        }
        if case .object(let extra)? = dict["labels"] {
            for (k, v) in extra {
                guard let s = v.value.scalarString else { throw bad("label \"\(k)\" must be a string or a number") }
                pairs.append(Label(k, s))
            }
        }
        for (field, label) in fieldLabels {
            guard let v = dict[field] else { continue }
            if case .null = v { continue }
            guard let s = v.scalarString else { throw bad("\"\(field)\" must be a string or a number") }
            if !s.isEmpty { pairs.append(Label(label, s)) }
        }
        pairs.append(Label(Labels.metricName, metric))
        return LabeledSample(labels: Labels(pairs), timestamp: timestamp, value: value)
    }
}

/// A JSON value with the line it starts on (for error messages).
package struct Located {
    package var value: JSONValue
    package var line: Int
}

/// A parsed JSON value; integers that fit Int64 stay exact (nanosecond timestamps do not fit a Double).
package enum JSONValue {
    case null, bool(Bool), integer(Int64), number(Double), string(String)
    case array([Located]), object([(String, Located)])

    /// Strings as they are, numbers and booleans as text; nil for containers and null.
    package var scalarString: String? {
        switch self {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }
}

/// A small recursive-descent JSON parser over bytes (RFC 8259), tracking line and column.
package struct JSONReader {
    let b: [UInt8]
    var i = 0
    var line: Int
    var lineStart = 0
    var depth = 0

    package init(_ bytes: [UInt8], firstLine: Int = 1) {
        b = bytes
        line = firstLine
        if b.count >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { i = 3; lineStart = 3 }
    }

    func fail(_ m: String) -> JSONSampleError { .syntax(line: line, column: i - lineStart + 1, message: m) }

    mutating func skipSpace() {
        while i < b.count {
            switch b[i] {
            case 0x20, 0x09, 0x0D: i += 1
            case 0x0A: i += 1; line += 1; lineStart = i
            default: return
            }
        }
    }

    package mutating func readDocument() throws(JSONSampleError) -> Located {
        skipSpace()
        let v = try readValue()
        skipSpace()
        guard i == b.count else { throw fail("unexpected text after the JSON value") }
        return v
    }

    mutating func readValue() throws(JSONSampleError) -> Located {
        skipSpace()
        guard i < b.count else { throw fail("unexpected end of input; expected a value") }
        let at = line
        switch b[i] {
        case UInt8(ascii: "{"):
            depth += 1
            guard depth <= 64 else { throw fail("nesting deeper than 64 levels") }
            i += 1
            var fields: [(String, Located)] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; depth -= 1; return Located(value: .object(fields), line: at) }
            while true {
                skipSpace()
                guard i < b.count, b[i] == 0x22 else { throw fail("expected a string key") }
                let key = try readString()
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':' after key \"\(key)\"") }
                i += 1
                fields.append((key, try readValue()))
                skipSpace()
                guard i < b.count else { throw fail("unexpected end of input inside an object") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; break }
                throw fail("expected ',' or '}' in an object")
            }
            depth -= 1
            return Located(value: .object(fields), line: at)
        case UInt8(ascii: "["):
            depth += 1
            guard depth <= 64 else { throw fail("nesting deeper than 64 levels") }
            i += 1
            var items: [Located] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; depth -= 1; return Located(value: .array(items), line: at) }
            while true {
                items.append(try readValue())
                skipSpace()
                guard i < b.count else { throw fail("unexpected end of input inside an array") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; break }
                throw fail("expected ',' or ']' in an array")
            }
            depth -= 1
            return Located(value: .array(items), line: at)
        case 0x22:
            return Located(value: .string(try readString()), line: at)
        case UInt8(ascii: "t"): try literal("true"); return Located(value: .bool(true), line: at)
        case UInt8(ascii: "f"): try literal("false"); return Located(value: .bool(false), line: at)
        case UInt8(ascii: "n"): try literal("null"); return Located(value: .null, line: at)
        default:
            return Located(value: try readNumber(), line: at)
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONSampleError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { throw fail("invalid literal") }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { throw fail("invalid literal") }
        i += n
    }

    mutating func readNumber() throws(JSONSampleError) -> JSONValue {
        let start = i
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        var digits = 0
        while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1; digits += 1 }
        guard digits > 0 else { i = start; throw fail("unexpected character; expected a value") }
        var integral = true
        if i < b.count, b[i] == UInt8(ascii: ".") {
            integral = false; i += 1
            var frac = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1; frac += 1 }
            guard frac > 0 else { throw fail("a number needs digits after '.'") }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            integral = false; i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            var exp = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1; exp += 1 }
            guard exp > 0 else { throw fail("a number needs digits in its exponent") }
        }
        let text = String(decoding: b[start..<i], as: UTF8.self)
        if integral, let v = Int64(text) { return .integer(v) }
        guard let d = Double(text) else { throw fail("invalid number \(text)") }
        return .number(d)
    }

    mutating func readString() throws(JSONSampleError) -> String {
        i += 1  // opening quote
        var out: [UInt8] = []
        while i < b.count {
            let c = b[i]
            if c == 0x22 { i += 1; return String(decoding: out, as: UTF8.self) }
            if c < 0x20 { throw fail("control character inside a string") }
            if c != 0x5C { out.append(c); i += 1; continue }
            i += 1
            guard i < b.count else { break }
            switch b[i] {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x2F: out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800, scalar < 0xDC00 {
                    guard i + 2 < b.count, b[i + 1] == 0x5C, b[i + 2] == UInt8(ascii: "u") else { throw fail("unpaired surrogate in \\u escape") }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00, low < 0xE000 else { throw fail("invalid low surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("invalid escape in a string")
            }
            i += 1
        }
        throw fail("unterminated string")
    }

    /// Reads the 4 hex digits after `\u`; leaves `i` on the last digit.
    mutating func hex4() throws(JSONSampleError) -> UInt32 {
        guard i + 4 < b.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for k in 1...4 {
            let c = b[i + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
        }
        i += 4
        return v
    }
}
