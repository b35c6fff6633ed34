#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses a decimal number from bytes without building a `String`. Up to 15 significant
/// digits with a small exponent take the exact fast path (`Double(m) / 10^k` is correctly
/// rounded, as `strtod` would give); anything else goes through `strtod`.
package enum DecimalParser {
    static let pow10: [Double] = (0...22).map { e in (0..<e).reduce(1.0) { acc, _ in acc * 10 } }

    package static func parse(_ p: UnsafeRawBufferPointer) -> Double? {
        let n = p.count
        guard n > 0 else { return nil }
        var i = 0
        var negative = false
        if p[0] == 45 { negative = true; i = 1 } else if p[0] == 43 { i = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fraction = 0
        var sawDigit = false
        while i < n, p[i] >= 48, p[i] <= 57 {
            if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(p[i] - 48); if mantissa > 0 { digits += 1 } } else { return slow(p) }
            sawDigit = true
            i += 1
        }
        if i < n, p[i] == 46 {
            i += 1
            while i < n, p[i] >= 48, p[i] <= 57 {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(p[i] - 48); if mantissa > 0 { digits += 1 } } else { return slow(p) }
                fraction += 1
                sawDigit = true
                i += 1
            }
        }
        guard sawDigit else { return slow(p) }
        var exp10 = -fraction
        if i < n, p[i] == 101 || p[i] == 69 {
            i += 1
            var eneg = false
            if i < n, p[i] == 45 { eneg = true; i += 1 } else if i < n, p[i] == 43 { i += 1 }
            var e = 0
            var edigits = 0
            while i < n, p[i] >= 48, p[i] <= 57 {
                e = e * 10 + Int(p[i] - 48)
                edigits += 1
                if e > 10_000 { return slow(p) }
                i += 1
            }
            guard edigits > 0 else { return nil }
            exp10 += eneg ? -e : e
        }
        guard i == n else { return nil }
        guard digits <= 15, mantissa < (1 << 53) else { return slow(p) }
        var v = Double(mantissa)
        if exp10 < 0 {
            guard exp10 >= -22 else { return slow(p) }
            v /= pow10[-exp10]
        } else if exp10 > 0 {
            guard exp10 <= 22, v * pow10[exp10] < 9_007_199_254_740_992 || digits + exp10 <= 15 else { return slow(p) }
            v *= pow10[exp10]
        }
        return negative ? -v : v
    }

    /// `strtod` for the rare long or special numbers (NaN, Inf, 17 digits, 1e300).
    static func slow(_ p: UnsafeRawBufferPointer) -> Double? {
        guard p.count < 64 else { return nil }
        var buf = [CChar](repeating: 0, count: p.count + 1)
        for k in 0..<p.count { buf[k] = CChar(bitPattern: p[k]) }
        return buf.withUnsafeMutableBufferPointer { b -> Double? in
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(b.baseAddress!, &end)
            guard let end, end - b.baseAddress! == p.count else { return nil }
            return v
        }
    }

    package static func parse(_ s: String) -> Double? {
        var s = s
        return s.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }
}
