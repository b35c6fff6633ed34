/// Go's float text (``FloatFormat/api(_:)``) written straight into a byte buffer. Most DCGM
/// values are integers or short decimals (3 or 6 places); those are printed from an exact
/// integer. The rest (rates, means) take Swift's shortest round-trip digits, which are Go's,
/// written as ASCII into the buffer and rearranged there: no `String` in either path.
extension FloatFormat {
    private static let powers: [Double] = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]

    /// Appends what `api(v)` returns.
    static func appendAPI(_ v: Double, to out: inout [UInt8]) {
        let a = abs(v)
        guard v.isFinite, a < 1e21, a >= 1e-6 || a == 0 else {
            out.append(contentsOf: api(v).utf8)
            return
        }
        // A short decimal is, times 10^9, an integer but for rounding; most results of
        // arithmetic (rates, means) are not, and skip the ten tries below. (Either path
        // prints the same text: this only saves time.)
        let s9 = a * 1e9
        if s9 < 1e15, abs(s9 - s9.rounded()) > s9 * 1e-12 + 1e-6 {
            appendPlainShortest(v, to: &out)
            return
        }
        // The fewest decimals d with v == N / 10^d for an exact integer N: that decimal
        // round-trips to v (IEEE division of exact operands rounds correctly, as parsing does)
        // and no shorter one does, so it is the shortest text, as Go's FormatFloat(v, 'f', -1).
        for d in 0..<powers.count {
            let p = powers[d]
            let scaled = a * p
            guard scaled < 1e15 else { break }
            let n = scaled.rounded()
            guard n / p == a else { continue }
            if v.sign == .minus { out.append(UInt8(ascii: "-")) }
            appendDecimal(UInt64(n), decimals: d, to: &out)
            return
        }
        appendPlainShortest(v, to: &out)
    }

    /// `FormatFloat(v, 'f', -1, 64)` for a finite non-zero `v`: Swift's shortest digits
    /// (`123.456`, `1.5e-05`, `1e+16`) are written at the end of `out`. Where Swift wrote
    /// them plainly (`0.0333…`, `123.456`: no exponent and no integral `.0`) they already are
    /// Go's text; otherwise they are read back as digits and a decimal exponent and replaced
    /// by the plain form, as ``plain(_:)`` builds it.
    static func appendPlainShortest(_ v: Double, to out: inout [UInt8]) {
        let start = out.count
        if v.sign == .minus { out.append(UInt8(ascii: "-")) }
        let digitsStart = out.count
        var sink = ASCIISink()
        swap(&sink.bytes, &out)
        v.magnitude.write(to: &sink)
        swap(&sink.bytes, &out)
        if isPlainFraction(out, from: digitsStart) { return }
        // digits (at most 17 significant) and value = 0.d1d2… × 10^exp
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let (count, exp): (Int, Int) = withUnsafeMutableBytes(of: &digits) { d in
            var n = 0, intDigits = 0, exp10 = 0, seenDot = false, negExp = false, inExp = false
            for i in digitsStart..<out.count {
                let b = out[i]
                if inExp {
                    if b == UInt8(ascii: "-") { negExp = true } else if b >= 48 && b <= 57 { exp10 = exp10 * 10 + Int(b - 48) }
                } else if b == UInt8(ascii: ".") {
                    seenDot = true
                } else if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                    inExp = true
                } else if b >= 48 && b <= 57, n < d.count {
                    d[n] = b; n += 1
                    if !seenDot { intDigits += 1 }
                }
            }
            if negExp { exp10 = -exp10 }
            var lead = 0, e = intDigits + exp10
            while lead < n - 1 && d[lead] == UInt8(ascii: "0") { lead += 1; e -= 1 }
            while n - 1 > lead && d[n - 1] == UInt8(ascii: "0") { n -= 1 }
            if lead > 0 { for i in 0..<(n - lead) { d[i] = d[i + lead] }; n -= lead }
            return (n, e)
        }
        out.removeSubrange(start...)
        if v.sign == .minus { out.append(UInt8(ascii: "-")) }
        withUnsafeBytes(of: &digits) { d in
            if exp <= 0 {
                out.append(UInt8(ascii: "0")); out.append(UInt8(ascii: "."))
                for _ in 0..<(-exp) { out.append(UInt8(ascii: "0")) }
                for i in 0..<count { out.append(d[i]) }
            } else if exp >= count {
                for i in 0..<count { out.append(d[i]) }
                for _ in 0..<(exp - count) { out.append(UInt8(ascii: "0")) }
            } else {
                for i in 0..<exp { out.append(d[i]) }
                out.append(UInt8(ascii: "."))
                for i in exp..<count { out.append(d[i]) }
            }
        }
    }

    /// Whether the text from `from` on has no exponent and does not end in `.0`: Swift's
    /// shortest digits written plainly, which have no other trailing zero.
    private static func isPlainFraction(_ out: [UInt8], from: Int) -> Bool {
        let n = out.count
        guard n - from >= 2, !(out[n - 1] == UInt8(ascii: "0") && out[n - 2] == UInt8(ascii: ".")) else { return false }
        for i in from..<n where out[i] == UInt8(ascii: "e") || out[i] == UInt8(ascii: "E") { return false }
        return true
    }

    /// Receives `Double.write(to:)`'s ASCII; `_writeASCII` is the standard library's hook
    /// that spares the `String` (without it, `write(_:)` gets the same bytes as a String).
    private struct ASCIISink: TextOutputStream {
        var bytes: [UInt8] = []
        mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }
        mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }
    }

    /// `n / 10^decimals` in plain notation: `0.05`, `12.5`, `7` (n < 10^15, decimals < 10).
    private static func appendDecimal(_ n: UInt64, decimals: Int, to out: inout [UInt8]) {
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of digits, least significant first
        withUnsafeMutableBytes(of: &tmp) { buf in
            var m = n, count = 0
            repeat {
                buf[count] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
                count += 1
            } while m > 0
            while count <= decimals { buf[count] = UInt8(ascii: "0"); count += 1 }
            for i in stride(from: count - 1, through: 0, by: -1) {
                if i == decimals - 1 { out.append(UInt8(ascii: ".")) }
                out.append(buf[i])
            }
        }
    }

    /// Appends a non-negative or negative integer in decimal.
    static func appendInteger(_ v: Int64, to out: inout [UInt8]) {
        if v < 0 { out.append(UInt8(ascii: "-")) }
        var m = v.magnitude
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &tmp) { buf in
            repeat {
                buf[count] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
                count += 1
            } while m > 0
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(buf[i]) }
        }
    }
}
