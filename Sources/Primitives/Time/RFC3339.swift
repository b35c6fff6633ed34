/// Hand-written RFC 3339 / ISO 8601 timestamp parsing to Int64 nanoseconds since the epoch:
/// `2025-07-18T20:42:34Z`, `2025-07-18 20:42:34.123456789+02:00`, fractions up to
/// nanoseconds kept exactly (Foundation's parsers are ~15× slower or truncate to ms).
/// Formatting is ``RFC3339/format(_:)`` and ``RFC3339Formatter``.
///
/// A well-formed time outside Int64 nanoseconds (before 1677-09-21T00:12:43.145224192Z or
/// after 2262-04-11T23:47:16.854775807Z) is refused, never wrapped.
package enum RFC3339 {
    /// What ``parseDetailed(_:)`` found.
    package enum Parsed: Equatable {
        case value(Int64)
        case malformed
        case outOfRange
    }

    /// Parses the bytes, or returns nil when they are not an RFC 3339 date-time that Int64
    /// nanoseconds can hold (the hot path of the CSV parser).
    package static func parse(_ p: UnsafeRawBufferPointer) -> Int64? {
        if case .value(let t) = parseDetailed(p) { return t }
        return nil
    }

    /// Parses the text, telling a malformed text from a time outside Int64 nanoseconds.
    package static func parseChecked(_ s: String) throws(TimeParseError) -> Int64 {
        var bytes = s
        let parsed = bytes.withUTF8 { parseDetailed(UnsafeRawBufferPointer($0)) }
        switch parsed {
        case .value(let t): return t
        case .malformed: throw .malformed(s)
        case .outOfRange: throw .outOfRange(s)
        }
    }

    package static func parseDetailed(_ p: UnsafeRawBufferPointer) -> Parsed {
        let n = p.count
        guard n >= 19 else { return .malformed }
        @inline(__always) func digit(_ i: Int) -> Int? {
            let c = p[i]
            return c >= 48 && c <= 57 ? Int(c - 48) : nil
        }
        @inline(__always) func num(_ i: Int, _ len: Int) -> Int? {
            var v = 0
            for k in i..<(i + len) {
                guard let d = digit(k) else { return nil }
                v = v * 10 + d
            }
            return v
        }
        guard let year = num(0, 4), p[4] == 45, let month = num(5, 2), p[7] == 45, let day = num(8, 2),
              p[10] == 84 || p[10] == 116 || p[10] == 32,
              let hour = num(11, 2), p[13] == 58, let minute = num(14, 2), p[16] == 58, let second = num(17, 2)
        else { return .malformed }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month, year), hour <= 23, minute <= 59, second <= 60 else { return .malformed }
        var i = 19
        var nanos: Int64 = 0
        if i < n, p[i] == 46 || p[i] == 44 {
            i += 1
            var digits = 0
            while i < n, let d = digit(i) {
                if digits < 9 { nanos = nanos * 10 + Int64(d) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return .malformed }
            if digits < 9 { for _ in digits..<9 { nanos *= 10 } }
        }
        guard i < n else { return .malformed }
        var offset = 0
        if p[i] == 90 || p[i] == 122 {
            i += 1
        } else if p[i] == 43 || p[i] == 45 {
            let sign = p[i] == 45 ? -1 : 1
            guard n - i >= 6, let oh = num(i + 1, 2), p[i + 3] == 58, let om = num(i + 4, 2), oh <= 23, om <= 59 else { return .malformed }
            offset = sign * (oh * 3600 + om * 60)
            i += 6
        } else {
            return .malformed
        }
        guard i == n else { return .malformed }
        let days = daysFromCivil(year, month, day)
        var secs = Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        // Borrow a second so the earliest representable times do not overflow on the way.
        if secs < 0 && nanos > 0 { secs += 1; nanos -= 1_000_000_000 }
        let (ns, o1) = secs.multipliedReportingOverflow(by: 1_000_000_000)
        let (t, o2) = ns.addingReportingOverflow(nanos)
        return o1 || o2 ? .outOfRange : .value(t)
    }

    package static func parse(_ s: String) -> Int64? {
        var s = s
        return s.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's algorithm).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
