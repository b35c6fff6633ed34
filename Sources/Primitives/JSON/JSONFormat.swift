/// The byte-level JSON text of strings and numbers, decided once for every writer (the API's
/// `JSONWriter`, the broker's and proxy's bodies, the streamer's events, the CLI's output):
///
/// - strings: `"` and `\` escaped, `\n` `\r` `\t` by name, other bytes below 0x20 as `\u00xx`;
///   everything else (UTF-8 included) as is;
/// - finite doubles: integral ones below 2^53 as integers (`42`, `-0.0` kept as `-0.0`), others
///   in Swift's shortest round-trip form (`0.1`, `1e+300`);
/// - NaN and ±infinity, which JSON cannot carry, as `null`.
///
/// ```swift
/// JSONFormat.quoted("a\"b")     // "\"a\\\"b\""
/// JSONFormat.number(.nan)       // "null"
/// ```
package enum JSONFormat {
    /// Most bytes ``writeNumber(_:to:)`` and ``writeInt(_:to:)`` write.
    package static let maxIntegralLength = 20

    /// A JSON string literal for `s` (quotes included).
    package static func quoted(_ s: String) -> String {
        var s = s
        return s.withUTF8 { u in
            String(unsafeUninitializedCapacity: quotedCapacity(u.count)) { out in
                writeQuoted(u, to: out.baseAddress!)
            }
        }
    }

    /// A JSON number for `v` (`null` for NaN and infinities).
    package static func number(_ v: Double) -> String {
        if let text = nonIntegralText(v) { return text }
        return String(unsafeUninitializedCapacity: maxIntegralLength) { out in writeNumber(v, to: out.baseAddress!) }
    }

    /// Room ``writeQuoted(_:to:)`` needs for `count` bytes of text.
    @inlinable package static func quotedCapacity(_ count: Int) -> Int { count * 6 + 2 }

    /// True when the bytes can be copied between quotes as they are.
    @inlinable package static func needsEscaping(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        u.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
    }

    /// Writes `"…"` with the bytes escaped at `p` (room for ``quotedCapacity(_:)``); returns
    /// the bytes written.
    package static func writeQuoted(_ u: UnsafeBufferPointer<UInt8>, to p: UnsafeMutablePointer<UInt8>) -> Int {
        let hex: StaticString = "0123456789abcdef"
        var n = 0
        p[n] = UInt8(ascii: "\""); n += 1
        for b in u {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): p[n] = UInt8(ascii: "\\"); p[n + 1] = b; n += 2
            case 0x0A: p[n] = UInt8(ascii: "\\"); p[n + 1] = UInt8(ascii: "n"); n += 2
            case 0x0D: p[n] = UInt8(ascii: "\\"); p[n + 1] = UInt8(ascii: "r"); n += 2
            case 0x09: p[n] = UInt8(ascii: "\\"); p[n + 1] = UInt8(ascii: "t"); n += 2
            case 0..<0x20:
                p[n] = UInt8(ascii: "\\"); p[n + 1] = UInt8(ascii: "u"); p[n + 2] = 0x30; p[n + 3] = 0x30
                p[n + 4] = hex.utf8Start[Int(b >> 4)]; p[n + 5] = hex.utf8Start[Int(b & 15)]
                n += 6
            default: p[n] = b; n += 1
            }
        }
        p[n] = UInt8(ascii: "\""); n += 1
        return n
    }

    /// The text of a finite, non-integral double (shortest round trip), or nil for values
    /// ``writeNumber(_:to:)`` writes itself (integral ones below 2^53, NaN, infinities).
    @inlinable package static func nonIntegralText(_ value: Double) -> String? {
        if !value.isFinite || (value == value.rounded() && abs(value) < 9.007_199_254_740_992e15) { return nil }
        return value.description
    }

    /// A value: `text` (from ``nonIntegralText(_:)``) when there is one, else the integral
    /// form; returns the bytes written.
    @inlinable package static func writeValue(_ value: Double, text: String?, to p: UnsafeMutablePointer<UInt8>) -> Int {
        guard var text else { return writeNumber(value, to: p) }
        return text.withUTF8 { u in
            p.update(from: u.baseAddress!, count: u.count)
            return u.count
        }
    }

    /// Integral doubles as integers (`-0.0` kept), NaN and infinities as `null`; at most
    /// ``maxIntegralLength`` bytes.
    @inlinable package static func writeNumber(_ value: Double, to p: UnsafeMutablePointer<UInt8>) -> Int {
        if !value.isFinite {
            p[0] = 0x6E; p[1] = 0x75; p[2] = 0x6C; p[3] = 0x6C
            return 4
        }
        if value == 0, value.sign == .minus {
            p[0] = UInt8(ascii: "-"); p[1] = UInt8(ascii: "0"); p[2] = UInt8(ascii: "."); p[3] = UInt8(ascii: "0")
            return 4
        }
        return writeInt(Int64(value), to: p)
    }

    /// Decimal digits of `value`; at most ``maxIntegralLength`` bytes.
    @inlinable package static func writeInt(_ value: Int64, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var v = value.magnitude
        var n = 0
        if value < 0 { p[0] = UInt8(ascii: "-"); n = 1 }
        var digits = 1
        var t = v
        while t >= 10 { t /= 10; digits += 1 }
        var k = n + digits - 1
        repeat {
            p[k] = UInt8(truncatingIfNeeded: v % 10) &+ 48
            v /= 10
            k -= 1
        } while v > 0
        return n + digits
    }
}
