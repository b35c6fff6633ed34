/// Go's float text (``FloatFormat/api(_:)``) written straight into a byte buffer. Most DCGM
/// values are integers or short decimals (3 or 6 places); those are printed from an exact
/// integer with no `String` in between, the rest go through the general path.
extension FloatFormat {
    private static let powers: [Double] = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]

    /// Appends what `api(v)` returns.
    static func appendAPI(_ v: Double, to out: inout [UInt8]) {
        let a = abs(v)
        guard v.isFinite, a < 1e15, a >= 1e-6 || a == 0 else {
            out.append(contentsOf: api(v).utf8)
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
        out.append(contentsOf: api(v).utf8)
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
