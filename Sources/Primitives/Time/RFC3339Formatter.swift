/// Writes Int64 nanoseconds as RFC 3339 in UTC straight into memory: the fraction only when
/// it is not zero, in groups of 3, 6 or 9 digits (`.500Z`, `.000001Z`, `.123456789Z`), so a
/// time always reads with millisecond, microsecond or nanosecond precision. Every writer of
/// RFC 3339 text (API pages, CSV, scrape output, the CLI) uses this.
///
/// ```swift
/// var f = RFC3339Formatter()
/// let n = f.write(t, to: p)          // p has room for RFC3339Formatter.maxLength bytes
/// RFC3339.format(1_752_871_354_500_000_000)   // "2025-07-18T20:42:34.500Z"
/// ```
package struct RFC3339Formatter {
    /// The longest text: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` (Int64 nanoseconds span 1677–2262).
    package static let maxLength = 30

    /// The day of the last timestamp written and its `YYYY-MM-DD` text: consecutive samples
    /// mostly share a day, so the calendar arithmetic runs once per day, not per sample.
    @usableFromInline var cachedDay = Int64.min
    @usableFromInline var dayText: (UInt64, UInt16) = (0, 0)

    package init() {}

    /// Writes the text at `p` (room for ``maxLength`` bytes); returns the bytes written.
    @inlinable
    package mutating func write(_ nanos: Int64, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var seconds = nanos / 1_000_000_000
        var fraction = nanos % 1_000_000_000
        if fraction < 0 { fraction += 1_000_000_000; seconds -= 1 }
        var days = seconds / 86_400
        var secOfDay = seconds % 86_400
        if secOfDay < 0 { secOfDay += 86_400; days -= 1 }
        if days != cachedDay {
            let (y, m, d) = Self.civilFromDays(days)
            withUnsafeMutableBytes(of: &dayText) { t in
                let q = t.baseAddress!.assumingMemoryBound(to: UInt8.self)
                Self.put2(Int(y / 100), q)
                Self.put2(Int(y % 100), q + 2)
                q[4] = 0x2D
                Self.put2(Int(m), q + 5)
                q[7] = 0x2D
                Self.put2(Int(d), q + 8)
            }
            cachedDay = days
        }
        withUnsafeBytes(of: &dayText) { t in UnsafeMutableRawPointer(p).copyMemory(from: t.baseAddress!, byteCount: 10) }
        p[10] = UInt8(ascii: "T")
        let sod = Int(secOfDay)
        Self.put2(sod / 3600, p + 11)
        p[13] = 0x3A
        Self.put2(sod / 60 % 60, p + 14)
        p[16] = 0x3A
        Self.put2(sod % 60, p + 17)
        var n = 19
        if fraction != 0 {
            p[n] = UInt8(ascii: ".")
            n += 1
            if fraction % 1_000_000 == 0 { n += Self.putDigits(Int(fraction / 1_000_000), 3, p + n) }
            else if fraction % 1_000 == 0 { n += Self.putDigits(Int(fraction / 1_000), 6, p + n) }
            else { n += Self.putDigits(Int(fraction), 9, p + n) }
        }
        p[n] = UInt8(ascii: "Z")
        return n + 1
    }

    /// Appends the text to a byte array (for callers outside hot loops).
    package mutating func append(_ nanos: Int64, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maxLength) { buf in
            let n = write(nanos, to: buf.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[..<n]))
        }
    }

    /// "00" through "99".
    @usableFromInline static let pairs: [UInt8] = {
        var table: [UInt8] = []
        for v in 0..<100 {
            table.append(UInt8(48 + v / 10))
            table.append(UInt8(48 + v % 10))
        }
        return table
    }()

    @inlinable static func put2(_ v: Int, _ p: UnsafeMutablePointer<UInt8>) {
        pairs.withUnsafeBufferPointer { t in
            p[0] = t[2 &* v]
            p[1] = t[2 &* v &+ 1]
        }
    }

    /// `v` (non-negative) zero-padded to `width` digits; returns `width`.
    @inlinable static func putDigits(_ v: Int, _ width: Int, _ p: UnsafeMutablePointer<UInt8>) -> Int {
        var x = v
        for k in stride(from: width - 1, through: 0, by: -1) {
            p[k] = UInt8(truncatingIfNeeded: 48 &+ x % 10)
            x /= 10
        }
        return width
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
    @inlinable static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

extension RFC3339 {
    /// Nanoseconds since the epoch as RFC 3339 text in UTC (see ``RFC3339Formatter``).
    package static func format(_ nanos: Int64) -> String {
        var formatter = RFC3339Formatter()
        var out: [UInt8] = []
        out.reserveCapacity(RFC3339Formatter.maxLength)
        formatter.append(nanos, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
