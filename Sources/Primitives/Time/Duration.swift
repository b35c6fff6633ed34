/// Durations as flags, environment variables and query strings write them, parsed the same way
/// everywhere (`--retention`, `--visibility-timeout`, `--heartbeat`, `--step`, `step=`, …):
///
/// - a plain number of seconds: `30`, `0.5`;
/// - one or more amounts with a unit, largest first or not: `250ms`, `1.5s`, `1h30m`, `7d`,
///   `1w`; units `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`, `d`, `w`.
///
/// Negative durations are malformed. A total beyond Int64 nanoseconds is
/// ``TimeParseError/durationOutOfRange(_:)``, never a wrap or a trap.
///
/// ```swift
/// try DurationParser.nanoseconds("1h30m")   // 5_400_000_000_000
/// try DurationParser.duration("200ms")      // Duration.milliseconds(200)
/// ```
package enum DurationParser {
    /// The duration in nanoseconds.
    package static func nanoseconds(_ text: String) throws(TimeParseError) -> Int64 {
        let bytes = Array(text.utf8)
        var lo = 0, hi = bytes.count
        while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 { lo += 1 }
        while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 { hi -= 1 }
        guard lo < hi else { throw .malformedDuration(text) }
        var i = lo
        var total: Int64 = 0
        var components = 0
        while i < hi {
            // Integer part, then an optional fraction.
            var whole: Int64 = 0
            var wholeDigits = 0
            var overflow = false
            while i < hi, isDigit(bytes[i]) {
                let (m, o1) = whole.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(bytes[i] - 0x30))
                if o1 || o2 { overflow = true }
                whole = a
                wholeDigits += 1
                i += 1
            }
            var fraction = 0.0
            var fractionDigits = 0
            if i < hi, bytes[i] == UInt8(ascii: ".") {
                i += 1
                var scale = 0.1
                while i < hi, isDigit(bytes[i]) {
                    fraction += Double(bytes[i] - 0x30) * scale
                    scale /= 10
                    fractionDigits += 1
                    i += 1
                }
            }
            guard wholeDigits + fractionDigits > 0 else { throw .malformedDuration(text) }
            let unitStart = i
            while i < hi, !isDigit(bytes[i]), bytes[i] != UInt8(ascii: ".") { i += 1 }
            let unit: Int64
            if unitStart == i {
                // A bare number is seconds, and only on its own.
                guard components == 0, i == hi else { throw .malformedDuration(text) }
                unit = Nanos.second
            } else {
                guard let u = unitNanos(bytes[unitStart..<i]) else { throw .malformedDuration(text) }
                unit = u
            }
            if overflow { throw .durationOutOfRange(text) }
            let (wholeNanos, o1) = whole.multipliedReportingOverflow(by: unit)
            // The fraction contributes less than one unit, so it always fits.
            let (part, o2) = wholeNanos.addingReportingOverflow(Int64((fraction * Double(unit)).rounded()))
            let (sum, o3) = total.addingReportingOverflow(part)
            if o1 || o2 || o3 { throw .durationOutOfRange(text) }
            total = sum
            components += 1
        }
        return total
    }

    /// The duration as a Swift `Duration`.
    package static func duration(_ text: String) throws(TimeParseError) -> Duration {
        .nanoseconds(try nanoseconds(text))
    }

    @inline(__always) private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    private static func unitNanos(_ unit: ArraySlice<UInt8>) -> Int64? {
        switch String(decoding: unit, as: UTF8.self) {
        case "ns": return 1
        case "us", "µs": return Nanos.microsecond
        case "ms": return Nanos.millisecond
        case "s": return Nanos.second
        case "m": return Nanos.minute
        case "h": return Nanos.hour
        case "d": return Nanos.day
        case "w": return Nanos.week
        default: return nil
        }
    }
}
