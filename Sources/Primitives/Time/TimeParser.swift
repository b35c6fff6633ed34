#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Points in time as the API's query strings and the CLI's flags accept them: RFC 3339, an
/// epoch number (unit from its magnitude, see ``Epoch``), `now`, or `now-<duration>`.
/// Anything outside Int64 nanoseconds is ``TimeParseError/outOfRange(_:)``.
///
/// ```swift
/// try TimeParser.parse("2025-07-18T20:42:34Z")                 // 1_752_871_354_000_000_000
/// try TimeParser.parse("now-1h", now: clock)                     // clock - 3_600_000_000_000
/// ```
package enum TimeParser {
    package static func parse(_ text: String, now: @autoclosure () -> Int64 = TimeParser.wallClockNanos()) throws(TimeParseError) -> Int64 {
        let s = text.trimmingWhitespace()
        if s == "now" { return now() }
        if s.hasPrefix("now-") {
            let ago: Int64
            do { ago = try DurationParser.nanoseconds(String(s.dropFirst(4))) } catch { throw .malformed(text) }
            let (t, overflow) = now().subtractingReportingOverflow(ago)
            if overflow { throw .outOfRange(text) }
            return t
        }
        switch s.utf8.count >= 19 ? RFC3339.parseDetailedString(s) : .malformed {
        case .value(let t): return t
        case .outOfRange: throw .outOfRange(text)
        case .malformed: break
        }
        do { return try Epoch.parseChecked(s) } catch {
            if case .outOfRange = error { throw .outOfRange(text) }
            throw .malformed(text)
        }
    }

    /// The system clock in nanoseconds since the epoch.
    package static func wallClockNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

extension RFC3339 {
    package static func parseDetailedString(_ s: String) -> Parsed {
        var s = s
        return s.withUTF8 { parseDetailed(UnsafeRawBufferPointer($0)) }
    }
}
