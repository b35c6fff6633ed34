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
