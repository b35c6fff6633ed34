import Ingest
import TSDB

/// Times and durations as the API accepts them in query strings and bodies.
package enum TimeParsing {
    /// RFC 3339, or an epoch number whose unit follows from its magnitude
    /// (seconds below 1e11, milliseconds below 1e14, microseconds below 1e17, else ns).
    package static func parse(_ text: String) -> Int64? {
        if let t = RFC3339.parse(text) { return t }
        if let t = Epoch.parse(text) { return t }
        return saturated(text)
    }

    /// A well-formed RFC 3339 time outside what Int64 nanoseconds can hold (before 1678 or
    /// after 2261) bounds a window at the start or end of time instead of failing.
    static func saturated(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 19, b[0...3].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), b[4] == 0x2D,
              let year = Int(String(decoding: b[0...3], as: UTF8.self))
        else { return nil }
        guard year < 1678 || year > 2261 else { return nil }
        // Validate the rest of the text with a representable year (2000 is a leap year, so 02-29 stays valid).
        let probe = "2000" + String(decoding: b[4...], as: UTF8.self)
        guard RFC3339.parse(probe) != nil else { return nil }
        return year < 1678 ? .min : .max
    }

    /// `1h30m`, `15s`, `250ms`, `2d`, `1w`, `100us`, `10ns`, or a plain number of seconds.
    package static func duration(_ text: String) -> Int64? {
        if let seconds = Double(text) {
            guard seconds.isFinite, seconds > 0, seconds < 9e9 else { return nil }
            return Int64((seconds * 1e9).rounded())
        }
        let b = Array(text.utf8)
        var i = 0
        var total: Int64 = 0
        while i < b.count {
            var value: Int64 = 0
            var digits = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(b[i] - 0x30))
                if o1 || o2 { return nil }
                value = a; digits += 1; i += 1
            }
            guard digits > 0 else { return nil }
            var unitEnd = i
            while unitEnd < b.count, !(b[unitEnd] >= 0x30 && b[unitEnd] <= 0x39) { unitEnd += 1 }
            let unit: Int64
            switch String(decoding: b[i..<unitEnd], as: UTF8.self) {
            case "ns": unit = 1
            case "us", "µs": unit = 1_000
            case "ms": unit = Nanos.millisecond
            case "s": unit = Nanos.second
            case "m": unit = Nanos.minute
            case "h": unit = Nanos.hour
            case "d": unit = Nanos.day
            case "w": unit = 7 * Nanos.day
            default: return nil
            }
            let (part, o1) = value.multipliedReportingOverflow(by: unit)
            let (sum, o2) = total.addingReportingOverflow(part)
            if o1 || o2 { return nil }
            total = sum
            i = unitEnd
        }
        return total
    }

    static func rfc3339(_ nanos: Int64) -> String { RFC3339.format(nanos) }
}
