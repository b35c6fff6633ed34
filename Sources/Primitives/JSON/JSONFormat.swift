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
        if writesItself(value) { return nil }
        return value.description
    }

    /// Whether ``writeNumber(_:to:)`` writes `value` (integral below 2^53, NaN, infinities)
    /// without the shortest-round-trip text of ``nonIntegralText(_:)``.
    @inlinable package static func writesItself(_ value: Double) -> Bool {
        !value.isFinite || (value == value.rounded() && abs(value) < 9.007_199_254_740_992e15)
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
    /// ``maxIntegralLength`` bytes, with room for that many at `p`.
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

    /// Decimal digits of `value`; at most ``maxIntegralLength`` bytes, and `p` must have room
    /// for that many even when fewer are written (the digits are formed in that room).
    @inlinable package static func writeInt(_ value: Int64, to p: UnsafeMutablePointer<UInt8>) -> Int {
        // Two digits per division, right to left into the tail of the 20 bytes the caller
        // provides, then moved to the front: a 13-digit millisecond time costs 7 divisions
        // instead of 26 (counting the digits first was a second loop of divisions).
        let pairs: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
        let table = pairs.utf8Start
        var v = value.magnitude
        let sign = value < 0 ? 1 : 0
        var k = 20  // maxIntegralLength
        while v >= 100 {
            let r = Int(v % 100)
            v /= 100
            k -= 2
            p[k] = table[2 * r]
            p[k + 1] = table[2 * r + 1]
        }
        if v >= 10 {
            k -= 2
            p[k] = table[2 * Int(v)]
            p[k + 1] = table[2 * Int(v) + 1]
        } else {
            k -= 1
            p[k] = UInt8(truncatingIfNeeded: v) &+ 48
        }
        let digits = 20 - k
        if sign == 1 { p[0] = UInt8(ascii: "-") }
        // Forward copy to a lower address: safe although the ranges overlap.
        for i in 0..<digits { p[sign + i] = p[k + i] }
        return sign + digits
    }
}
