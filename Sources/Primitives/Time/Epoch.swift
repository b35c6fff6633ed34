/// Epoch numbers whose unit is guessed from their magnitude, as many ingest APIs do:
/// below 1e11 seconds, below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds.
/// A number whose nanoseconds do not fit Int64 is refused, never wrapped.
package enum Epoch {
    package static func nanos(fromInteger i: Int64) -> Int64? {
        let m = i.magnitude
        let unit: Int64
        if m < 100_000_000_000 { unit = 1_000_000_000 } else if m < 100_000_000_000_000 { unit = 1_000_000 } else if m < 100_000_000_000_000_000 { unit = 1_000 } else { unit = 1 }
        let (v, overflow) = i.multipliedReportingOverflow(by: unit)
        return overflow ? nil : v
    }

    /// A fractional number of seconds (or of the unit its magnitude implies).
    package static func nanos(fromSeconds d: Double) -> Int64? {
        guard d.isFinite else { return nil }
        let m = abs(d)
        let scaled: Double
        if m < 1e11 { scaled = d * 1e9 } else if m < 1e14 { scaled = d * 1e6 } else if m < 1e17 { scaled = d * 1e3 } else { scaled = d }
        guard scaled > -9.2e18, scaled < 9.2e18 else { return nil }
        return Int64(scaled.rounded())
    }

    /// Parses an integer or decimal epoch string; nil when it is not a plain number or out of range.
    package static func parse(_ s: String) -> Int64? { try? parseChecked(s) }

    /// Parses an integer or decimal epoch string, telling a malformed text from one out of range.
    package static func parseChecked(_ s: String) throws(TimeParseError) -> Int64 {
        let t = s.trimmingWhitespace()
        guard !t.isEmpty, t.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D || $0 == 0x2B || $0 == 0x65 || $0 == 0x45 }) else {
            throw .malformed(s)
        }
        if let i = Int64(t) {
            guard let v = nanos(fromInteger: i) else { throw .outOfRange(s) }
            return v
        }
        let digits = t.first == "-" || t.first == "+" ? t.dropFirst() : Substring(t)
        if !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            // An integer, but not an Int64.
            throw .outOfRange(s)
        }
        guard let d = Double(t), d.isFinite else { throw .malformed(s) }
        guard let v = nanos(fromSeconds: d) else { throw .outOfRange(s) }
        return v
    }
}
