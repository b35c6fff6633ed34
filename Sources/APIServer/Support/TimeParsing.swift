import Ingest
import TSDB

/// Times and durations as the API accepts them in query strings and bodies.
enum TimeParsing {
    /// RFC 3339, or an epoch number whose unit follows from its magnitude
    /// (seconds below 1e11, milliseconds below 1e14, microseconds below 1e17, else ns).
    static func parse(_ text: String) -> Int64? {
        if let t = RFC3339.parse(text) { return t }
        return Epoch.parse(text)
    }

    /// `1h30m`, `15s`, `250ms`, `2d`, `1w`, `100us`, `10ns`, or a plain number of seconds.
    static func duration(_ text: String) -> Int64? {
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
