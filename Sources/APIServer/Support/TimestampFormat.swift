/// Writes Int64 nanoseconds as RFC 3339 (UTC) straight into a byte buffer, the same text as
/// Ingest's `RFC3339.format` (fraction only when non-zero, in ms/µs/ns groups) without
/// building intermediate strings; telemetry pages format thousands of these.
enum TimestampFormat {
    static func appendRFC3339(_ nanos: Int64, into out: inout [UInt8]) {
        var seconds = nanos / 1_000_000_000
        var fraction = nanos % 1_000_000_000
        if fraction < 0 { fraction += 1_000_000_000; seconds -= 1 }
        var days = seconds / 86_400
        var secOfDay = seconds % 86_400
        if secOfDay < 0 { secOfDay += 86_400; days -= 1 }
        let (y, m, d) = civilFromDays(days)
        put(y, 4, &out); out.append(0x2D); put(m, 2, &out); out.append(0x2D); put(d, 2, &out)
        out.append(UInt8(ascii: "T"))
        put(secOfDay / 3600, 2, &out); out.append(0x3A); put(secOfDay / 60 % 60, 2, &out); out.append(0x3A); put(secOfDay % 60, 2, &out)
        if fraction != 0 {
            out.append(UInt8(ascii: "."))
            if fraction % 1_000_000 == 0 { put(fraction / 1_000_000, 3, &out) }
            else if fraction % 1_000 == 0 { put(fraction / 1_000, 6, &out) }
            else { put(fraction, 9, &out) }
        }
        out.append(UInt8(ascii: "Z"))
    }

    @inline(__always) private static func put(_ v: Int64, _ width: Int, _ out: inout [UInt8]) {
        var x = v < 0 ? -v : v
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (48, 48, 48, 48, 48, 48, 48, 48, 48, 48)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            repeat { buf[n] = UInt8(48 + x % 10); x /= 10; n += 1 } while x > 0 && n < 10
            let count = max(n, width)
            if v < 0 { out.append(0x2D) }
            for k in stride(from: count - 1, through: 0, by: -1) { out.append(k < n ? buf[k] : 48) }
        }
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
    static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
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
