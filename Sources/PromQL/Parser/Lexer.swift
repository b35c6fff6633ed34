/// One token of PromQL source with the byte offset it starts at.
struct Token: Equatable {
    enum Kind: Equatable {
        case identifier(String)
        case number(Double)
        /// Milliseconds.
        case duration(Int64)
        case string(String)
        /// Punctuation and operators: ( ) { } [ ] , : @ = == != =~ !~ < <= > >= + - * / % ^
        case symbol(String)
        case eof
    }
    var kind: Kind
    var offset: Int
}

/// Splits PromQL into tokens the way Prometheus' lexer does: a number followed by a unit is a
/// duration, identifiers may contain `:`, strings take Go escapes in "…" and '…' and none in `…`.
struct Lexer {
    private let bytes: [UInt8]
    private var i = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    static func tokenize(_ text: String) throws(PromQLError) -> [Token] {
        var lexer = Lexer(text)
        var out: [Token] = []
        while true {
            let t = try lexer.next()
            out.append(t)
            if t.kind == .eof { return out }
        }
    }

    private func peek(_ k: Int = 0) -> UInt8? { i + k < bytes.count ? bytes[i + k] : nil }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    private static func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= 97 && (c | 0x20) <= 122 || c == 95 }

    mutating func next() throws(PromQLError) -> Token {
        while let c = peek(), c == 32 || c == 9 || c == 10 || c == 13 { i += 1 }
        // Comments run to the end of the line.
        if peek() == UInt8(ascii: "#") {
            while let c = peek(), c != 10 { i += 1 }
            return try next()
        }
        let start = i
        guard let c = peek() else { return Token(kind: .eof, offset: i) }
        if Self.isDigit(c) || (c == UInt8(ascii: ".") && peek(1).map(Self.isDigit) == true) {
            return try numberOrDuration(start)
        }
        if Self.isAlpha(c) {
            while let d = peek(), Self.isAlpha(d) || Self.isDigit(d) || d == UInt8(ascii: ":") { i += 1 }
            let word = String(decoding: bytes[start..<i], as: UTF8.self)
            switch word.lowercased() {
            case "inf": return Token(kind: .number(.infinity), offset: start)
            case "nan": return Token(kind: .number(.nan), offset: start)
            default: return Token(kind: .identifier(word), offset: start)
            }
        }
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") || c == UInt8(ascii: "`") {
            return Token(kind: .string(try string(quote: c)), offset: start)
        }
        let two = peek(1).map { String(decoding: [c, $0], as: UTF8.self) }
        if let two, ["==", "!=", "=~", "!~", "<=", ">="].contains(two) {
            i += 2
            return Token(kind: .symbol(two), offset: start)
        }
        let one = String(decoding: [c], as: UTF8.self)
        if "(){}[],:@=<>+-*/%^".contains(one) {
            i += 1
            return Token(kind: .symbol(one), offset: start)
        }
        throw .badData("1:\(start + 1): parse error: unexpected character: '\(one)'")
    }

    private mutating func numberOrDuration(_ start: Int) throws(PromQLError) -> Token {
        if peek() == UInt8(ascii: "0"), let x = peek(1), x | 0x20 == UInt8(ascii: "x") {
            i += 2
            while let d = peek(), Self.isDigit(d) || ((d | 0x20) >= 97 && (d | 0x20) <= 102) { i += 1 }
            let text = String(decoding: bytes[(start + 2)..<i], as: UTF8.self)
            guard let v = UInt64(text, radix: 16) else { throw .badData("1:\(start + 1): parse error: bad number \"0x\(text)\"") }
            return Token(kind: .number(Double(v)), offset: start)
        }
        while let d = peek(), Self.isDigit(d) { i += 1 }
        // A digit run followed by a unit letter is a duration such as 5m, 1h30m or 250ms.
        if let u = peek(), "smhdwy".utf8.contains(u) {
            while let d = peek(), Self.isDigit(d) || "smhdwy".utf8.contains(d) { i += 1 }
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            guard let ms = DurationParser.parse(text) else {
                throw .badData("1:\(start + 1): parse error: bad duration syntax: \"\(text)\"")
            }
            return Token(kind: .duration(ms), offset: start)
        }
        if peek() == UInt8(ascii: ".") {
            i += 1
            while let d = peek(), Self.isDigit(d) { i += 1 }
        }
        if let e = peek(), e | 0x20 == UInt8(ascii: "e") {
            var j = i + 1
            if j < bytes.count, bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-") { j += 1 }
            if j < bytes.count, Self.isDigit(bytes[j]) {
                i = j
                while let d = peek(), Self.isDigit(d) { i += 1 }
            }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if let d = peek(), Self.isAlpha(d) {
            throw .badData("1:\(start + 1): parse error: bad number or duration syntax: \"\(text)\(String(decoding: [d], as: UTF8.self))\"")
        }
        guard let v = Double(text) else { throw .badData("1:\(start + 1): parse error: bad number \"\(text)\"") }
        return Token(kind: .number(v), offset: start)
    }

    private mutating func string(quote: UInt8) throws(PromQLError) -> String {
        let start = i
        i += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek() else {
                throw .badData("1:\(start + 1): parse error: unterminated quoted string")
            }
            i += 1
            if c == quote { break }
            if c == UInt8(ascii: "\\"), quote != UInt8(ascii: "`") {
                guard let e = peek() else { throw .badData("1:\(start + 1): parse error: unterminated quoted string") }
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "a"): out.append(7)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "v"): out.append(11)
                case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): out.append(e)
                case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let n = e == UInt8(ascii: "x") ? 2 : (e == UInt8(ascii: "u") ? 4 : 8)
                    guard i + n <= bytes.count, let v = UInt32(String(decoding: bytes[i..<(i + n)], as: UTF8.self), radix: 16) else {
                        throw .badData("1:\(i): parse error: invalid escape sequence in string")
                    }
                    i += n
                    if e == UInt8(ascii: "x") { out.append(UInt8(v)) } else if let s = Unicode.Scalar(v) { out.append(contentsOf: Array(String(Character(s)).utf8)) }
                default:
                    throw .badData("1:\(i): parse error: unknown escape sequence '\\\(String(decoding: [e], as: UTF8.self))'")
                }
                continue
            }
            out.append(c)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Prometheus durations: `1y2w3d4h5m6s7ms`, units in that order, each at most once.
enum DurationParser {
    static func parse(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000),
                                        ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
        var bytes = Array(text.utf8)[...]
        var total: Int64 = 0
        var next = 0
        guard !bytes.isEmpty else { return nil }
        while !bytes.isEmpty {
            var digits = 0
            var n: Int64 = 0
            while let d = bytes.first, d >= 48 && d <= 57 {
                let (m, o1) = n.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(d - 48))
                guard !o1, !o2 else { return nil }
                n = a; digits += 1; bytes = bytes.dropFirst()
            }
            guard digits > 0 else { return nil }
            var unitText = ""
            while let u = bytes.first, !(u >= 48 && u <= 57) { unitText.append(Character(Unicode.Scalar(u))); bytes = bytes.dropFirst() }
            guard let k = units.firstIndex(where: { $0.0 == unitText }), k >= next else { return nil }
            next = k + 1
            let (m, o) = n.multipliedReportingOverflow(by: units[k].1)
            guard !o else { return nil }
            total += m
        }
        return total
    }
}
