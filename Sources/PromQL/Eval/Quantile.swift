import Foundation

/// `quantile` / `quantile_over_time` and the classic-histogram `histogram_quantile`, as in
/// Prometheus 2.42's `quantile.go`.
enum Quantile {
    static func quantile(_ q: Double, _ values: [Double]) -> Double {
        if values.isEmpty || q.isNaN { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        return quantile(q, sorted: values.sorted { ($0.isNaN && !$1.isNaN) || $0 < $1 })
    }

    /// ``quantile(_:_:)`` of values already sorted in its order (NaN first, then ascending).
    static func quantile(_ q: Double, sorted: [Double]) -> Double {
        if sorted.isEmpty || q.isNaN { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        let n = Double(sorted.count)
        let rank = q * (n - 1)
        let lower = max(0, rank.rounded(.down))
        let upper = min(n - 1, lower + 1)
        let weight = rank - rank.rounded(.down)
        return sorted[Int(lower)] * (1 - weight) + sorted[Int(upper)] * weight
    }

    struct Bucket { var upperBound: Double; var count: Double }

    static func bucketQuantile(_ q: Double, _ input: [Bucket]) -> Double {
        if q.isNaN { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        var buckets = input.sorted { $0.upperBound < $1.upperBound }
        guard let last = buckets.last, last.upperBound == .infinity else { return .nan }
        // Coalesce buckets with equal bounds, then force the counts to be monotonic.
        var merged: [Bucket] = []
        for b in buckets {
            if let l = merged.last, l.upperBound == b.upperBound { merged[merged.count - 1].count += b.count } else { merged.append(b) }
        }
        buckets = merged
        var mx = buckets[0].count
        for i in 1..<buckets.count {
            if buckets[i].count > mx { mx = buckets[i].count } else if buckets[i].count < mx { buckets[i].count = mx }
        }
        if buckets.count < 2 { return .nan }
        let observations = buckets[buckets.count - 1].count
        if observations == 0 { return .nan }
        var rank = q * observations
        // sort.Search over all but the +Inf bucket.
        var lo = 0, hi = buckets.count - 1
        while lo < hi { let m = (lo + hi) / 2; if buckets[m].count >= rank { hi = m } else { lo = m + 1 } }
        let b = lo
        if b == buckets.count - 1 { return buckets[buckets.count - 2].upperBound }
        if b == 0 && buckets[0].upperBound <= 0 { return buckets[0].upperBound }
        var bucketStart = 0.0
        let bucketEnd = buckets[b].upperBound
        var count = buckets[b].count
        if b > 0 {
            bucketStart = buckets[b - 1].upperBound
            count -= buckets[b - 1].count
            rank -= buckets[b - 1].count
        }
        return bucketStart + (bucketEnd - bucketStart) * (rank / count)
    }
}

/// Float text as Prometheus writes it: Go's `strconv.FormatFloat(v, 'f' or 'e', -1, 64)`.
package enum FloatFormat {
    /// The API's sample values: 'e' below 1e-6 and from 1e21 on, 'f' otherwise; `+Inf`, `-Inf`, `NaN`.
    package static func api(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        let a = abs(v)
        if a != 0 && (a < 1e-6 || a >= 1e21) { return exponent(v) }
        return plain(v)
    }

    /// `FormatFloat(v, 'f', -1, 64)`: the shortest digits that round-trip, never an exponent.
    package static func plain(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        let (neg, digits, exp) = shortest(v)
        // value = 0.digits × 10^exp
        var s = neg ? "-" : ""
        if exp <= 0 {
            s += "0." + String(repeating: "0", count: -exp) + digits
        } else if exp >= digits.count {
            s += digits + String(repeating: "0", count: exp - digits.count)
        } else {
            let i = digits.index(digits.startIndex, offsetBy: exp)
            s += digits[..<i] + "." + digits[i...]
        }
        return s
    }

    /// `FormatFloat(v, 'e', -1, 64)`: `1e-07`, `1.5e+21`.
    static func exponent(_ v: Double) -> String {
        let (neg, digits, exp) = shortest(v)
        let e = exp - 1
        var s = neg ? "-" : ""
        s += String(digits.prefix(1))
        if digits.count > 1 { s += "." + digits.dropFirst() }
        s += e < 0 ? "e-" : "e+"
        let ae = abs(e)
        s += ae < 10 ? "0\(ae)" : "\(ae)"
        return s
    }

    /// Shortest round-trip digits (no leading/trailing zeros) and the decimal exponent such
    /// that |v| = 0.d1d2… × 10^exp. Swift's description already prints the shortest digits.
    private static func shortest(_ v: Double) -> (Bool, String, Int) {
        if v == 0 { return (v.sign == .minus, "0", 1) }
        var text = "\(abs(v))"
        var exp10 = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp10 = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        var intPart = text, frac = ""
        if let dot = text.firstIndex(of: ".") {
            intPart = String(text[..<dot])
            frac = String(text[text.index(after: dot)...])
        }
        var digits = intPart + frac
        var exp = intPart.count + exp10
        while digits.hasPrefix("0") && digits.count > 1 { digits.removeFirst(); exp -= 1 }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        return (v < 0, digits, exp)
    }
}
